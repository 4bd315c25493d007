"""Fit-mode checks of the example model repo on a GPU, timed.

Runs ``pytest --f1check --f1check-device gpu -k "fit"`` in
``fixtures/model_repo`` (fit and fit-dropped items only) and prints the
wall time, the outcome line and the summary table. With no GPU visible to
the Keras backend, f1check refuses ``--f1check-device gpu`` with a usage
error, which this script reports rather than timing a CPU run.

Usage: python benchmarks/gpu_fit.py [--backend tensorflow|jax] [--examples 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent / "fixtures" / "model_repo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "tensorflow"))
    parser.add_argument("--examples", type=int, default=20)
    args = parser.parse_args()
    env = {**os.environ, "KERAS_BACKEND": args.backend}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--f1check", "--f1check-device=gpu",
               f"--f1check-examples={args.examples}", "-k", "fit"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    out = done.stdout + done.stderr
    if done.returncode == 4:
        print(f"no GPU for the {args.backend} backend: {out.strip().splitlines()[-1]}")
        sys.exit(1)
    summary = out[out.find("f1check summary"):] if "f1check summary" in out else out[-3000:]
    print(f"backend {args.backend}, {args.examples} examples per item, {elapsed:.1f} s wall")
    print(summary)


if __name__ == "__main__":
    main()
