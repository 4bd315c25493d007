"""Scale-out: the example model repo's ``pytest --f1check`` with pytest-xdist workers and without.

Copies ``fixtures/model_repo`` to a temporary directory and runs ``pytest
--f1check`` there with ``-n 0`` (one process) and ``-n N`` for each N given,
the same seed, and prints the wall time, the speed-up over ``-n 0`` and
whether the verdicts (from the JSON report) are the same.  One run each, in
the order given: the machine is shared and noisy, so read the ratio.

Usage: python benchmarks/xdist.py [--workers 2] [--examples 10] [--dist load worksteal]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1] / "fixtures" / "model_repo"


def run(root: Path, workers: int, examples: int, dist: str = "load") -> tuple[float, dict]:
    report = root / f"report-{workers}-{dist}.json"
    args = [sys.executable, "-m", "pytest", "--f1check", f"--f1check-examples={examples}", "--f1check-seed=0",
            f"--f1check-report={report}", "-q", "-p", "no:cacheprovider", "-n", str(workers)]
    args += ["--dist", dist] if workers else []
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    started = time.perf_counter()
    subprocess.run(args, cwd=root, env=env, capture_output=True)  # failing items are expected: exit code 1
    seconds = time.perf_counter() - started
    results = json.loads(report.read_text())["results"]
    return seconds, {(r["target"], r["mode"]): r["passed"] for r in results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--dist", nargs="+", default=["load", "worksteal"], help="pytest-xdist --dist modes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(REPO, root)
        base, verdicts = run(root, 0, args.examples)
        print(f"fixtures/model_repo, {len(verdicts)} items, --f1check-examples={args.examples}, "
              f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        print("| pytest --f1check | wall s | speed-up | same verdicts |")
        print("|---|---|---|---|")
        print(f"| -n 0 | {base:.1f} | 1.00x | - |", flush=True)
        for workers in args.workers:
            for dist in args.dist:
                seconds, found = run(root, workers, args.examples, dist)
                print(f"| -n {workers} --dist {dist} | {seconds:.1f} | {base / seconds:.2f}x | {found == verdicts} |",
                      flush=True)


if __name__ == "__main__":
    main()
