"""What the config probe costs a default gate: its share of every item's time, in one run.

Every metric item probes ``from_config(get_config())`` of the subject's compiled metrics after the search (issue
37).  This runs ``pytest --f1check -n 0`` over ``benchmarks/gate_repo`` (its defaults: no ``reloaded``) in this
process, with a timer around ``Search._config_loss`` (the whole probe: round trips, attribute comparison and the
replays where an attribute differs) and around ``Search.run`` (the whole check), and prints each item's two times
and the total ratio.  The ratio is measured within the one run, so a noisy machine moves both alike.

    python benchmarks/config_probe.py          # a markdown table; the total share is the figure in RESULTS.md
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).with_name("gate_repo")


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path[0] = str(REPO)  # not benchmarks/, whose xdist.py would hide pytest-xdist
    import pytest

    import f1check.search as search

    spent: list[list] = []  # [target, mode, run seconds, probe seconds]
    run, probe = search.Search.run, search.Search._config_loss

    def timed_run(self):
        spent.append([self.context.label, self.context.mode.value, 0.0, 0.0])
        started = time.perf_counter()
        try:
            return run(self)
        finally:
            spent[-1][2] = time.perf_counter() - started

    def timed_probe(self, examples):
        started = time.perf_counter()
        try:
            return probe(self, examples)
        finally:
            spent[-1][3] += time.perf_counter() - started

    search.Search.run, search.Search._config_loss = timed_run, timed_probe
    os.chdir(REPO)
    started = time.perf_counter()
    pytest.main(["--f1check", "-n", "0", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--no-header"])
    wall = time.perf_counter() - started
    print("\n| item | check (s) | config probe (ms) | share |\n|---|---:|---:|---:|")
    for target, mode, seconds, probed in spent:
        print(f"| {target} [{mode}] | {seconds:.2f} | {1000 * probed:.1f} | {probed / seconds:.2%} |")
    total, probed = sum(s[2] for s in spent), sum(s[3] for s in spent)
    if not spent:
        print("no check ran: see pytest's output above")
        return 1
    print(f"\n{len(spent)} checks, {total:.1f} s in checks ({wall:.1f} s the whole run): the config probe took "
          f"{1000 * probed:.0f} ms, {probed / total:.2%} of the checks' time.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
