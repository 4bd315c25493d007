#!/usr/bin/env bash
# A slow day on purpose (issue 33): the tests that carry time budgets, pinned to one core that a busy loop shares,
# several times in a row. Every run must pass; the times say how far the machine was slowed.
#   bash benchmarks/slow_day.sh [RUNS]        (default 3; run from the repository root, after the set-up)
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
python=".venv/bin/python"
tests=(tests/test_run_safety.py tests/test_plugin_config.py tests/test_warm.py
       "tests/test_plugin_e2e.py::test_without_the_flag_only_the_repos_tests_run_and_marked_ones_skip"
       "tests/test_plugin_e2e.py::test_with_the_flag_exactly_the_wrong_subjects_fail"
       "tests/test_plugin_e2e.py::test_the_rerun_command_runs_just_that_item")
taskset -c 0 "$python" -c "while True: pass" &
busy=$!
trap 'kill $busy 2>/dev/null' EXIT
status=0
for run in $(seq 1 "$runs"); do
  started=$(date +%s)
  CI=true taskset -c 0 "$python" -m pytest -n 0 -p no:randomly -q "${tests[@]}" > "/tmp/slow_day_$run.log" 2>&1
  code=$?
  echo "run $run: exit $code, $(( $(date +%s) - started )) s, $(tail -1 "/tmp/slow_day_$run.log")"
  [ "$code" -eq 0 ] || status=1
done
exit $status
