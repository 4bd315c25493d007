"""Fit-mode checks of the example model repo on a GPU, timed.

Runs ``pytest --f1check --f1check-device gpu -k "fit"`` in
``fixtures/model_repo`` (fit and fit-dropped items only) and prints the
wall time, the outcome line and the summary table. With no GPU visible to
the Keras backend, f1check refuses ``--f1check-device gpu`` with a usage
error, which this script reports rather than timing a CPU run.

``--device cpu`` runs the same items with the accelerator hidden, the
baseline to compare with on the same machine.

Usage: python benchmarks/gpu_fit.py [--backend tensorflow|jax] [--examples 20] [--device gpu|cpu] [-k fit]
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
    parser.add_argument("--device", choices=["gpu", "cpu"], default="gpu")
    parser.add_argument("-k", dest="keyword", default="fit", help="pytest -k expression over the items (default: fit)")
    args = parser.parse_args()
    env = {**os.environ, "KERAS_BACKEND": args.backend}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--f1check", f"--f1check-device={args.device}",
               f"--f1check-examples={args.examples}", "-k", args.keyword]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    out = done.stdout + done.stderr
    if done.returncode == 4:
        print(f"no GPU for the {args.backend} backend: {out.strip().splitlines()[-1]}")
        sys.exit(1)
    summary = out[out.find("f1check summary"):] if "f1check summary" in out else out[-3000:]
    print(f"backend {args.backend}, device {args.device}, -k {args.keyword!r}, {args.examples} examples per item, "
          f"{elapsed:.1f} s wall")
    print(summary)


if __name__ == "__main__":
    main()
