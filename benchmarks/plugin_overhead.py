"""What having f1check installed costs a plain ``pytest`` run (no --f1check).

Runs a small project (50 trivial tests and a ``[tool.f1check]`` table) with
the plugin loaded and with ``-p no:f1check``, alternating, and prints the
median wall times and their ratio.  Target: at most 1.10x.

Usage: python benchmarks/plugin_overhead.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = "\n".join(f"def test_{i}():\n    assert {i} + 1 > {i}\n" for i in range(50))
PYPROJECT = '[tool.f1check]\ntargets = ["pkg.metrics:f1", { callback = "pkg.callbacks:F1", key = "f1" }]\n'


def timed(args, cwd) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=cwd,
                   check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text(PYPROJECT)
        (root / "test_plain.py").write_text(TESTS)
        timed([], root)  # warm the file system cache
        with_plugin, without = [], []
        for _ in range(args.runs):
            with_plugin.append(timed([], root))
            without.append(timed(["-p", "no:f1check"], root))
    a, b = statistics.median(with_plugin), statistics.median(without)
    print(f"runs: {args.runs} each, alternating; Python {sys.version.split()[0]}")
    print("| plain pytest, 50 tests | median s | min s |")
    print("|---|---|---|")
    print(f"| f1check installed (plugin loaded) | {a:.3f} | {min(with_plugin):.3f} |")
    print(f"| -p no:f1check | {b:.3f} | {min(without):.3f} |")
    print(f"ratio (median): {a / b:.3f}x")


if __name__ == "__main__":
    main()
