"""The declared version range, run: each corner in a fresh virtual environment, the example repos through it.

For each corner (the oldest Keras + TensorFlow + numpy 1.x f1check declares, a middle one on numpy 2.0, tf-keras's
oldest with its TensorFlow, JAX's oldest, and the tested set of ``constraints.txt``), this script

1. makes a virtual environment under ``--root`` (default ``/tmp/f1check-compat``) and installs the corner's pins
   plus f1check built from this checkout (``pip install --no-deps .``: the corner's pins are its dependencies);
2. runs ``pytest --f1check`` in a copy of ``fixtures/model_repo`` (``fixtures/legacy_repo`` under tf-keras) with
   the JSON report and ``-W error:::f1check`` (a warning raised from f1check's code is an error of that item);
3. compares each item's verdict with the verdicts the example repo is built to give (``EXPECTED``), and counts the
   warnings pytest reports from f1check's modules.

Prints one Markdown row per corner (versions, verdicts right, warnings of ours, install and run seconds).
``--corner NAME`` runs one (``.ci/run`` runs ``oldest``); ``--reuse`` keeps an environment already built.
Run: ``.venv/bin/python benchmarks/compat.py`` (about 2 minutes a corner on 2 cores, most of it pip).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMON = ["pytest", "scikit-learn", "hypothesis"]  # unpinned unless the corner pins them


@dataclass(frozen=True)
class Corner:
    name: str
    pins: tuple[str, ...]
    repo: str = "fixtures/model_repo"
    env: dict = field(default_factory=dict)
    no_deps: tuple[str, ...] = ()  # installed after, without their dependencies (tf-keras on tensorflow-cpu)
    refused: str | None = None  # below the range: the run must stop at start with this


CORNERS = (
    Corner("oldest", ("keras==3.7.0", "tensorflow-cpu==2.16.2", "numpy==1.24.4", "scikit-learn==1.3.2",
                      "hypothesis==6.100.0", "pytest==7.4.0")),
    Corner("numpy-2.0", ("keras==3.8.0", "tensorflow-cpu==2.18.1", "numpy==2.0.2")),
    Corner("tf-keras-oldest", ("tensorflow-cpu==2.16.2", "keras==3.7.0", "numpy==1.26.4"), "fixtures/legacy_repo",
           {"TF_USE_LEGACY_KERAS": "1"}, ("tf-keras==2.16.0",)),
    Corner("jax-oldest", ("keras==3.7.0", "jax==0.4.30", "jaxlib==0.4.30", "numpy==1.26.4"),
           env={"KERAS_BACKEND": "jax"}),
    Corner("below-floor", ("keras==3.6.0", "tensorflow-cpu==2.16.2", "numpy==1.26.4"),
           refused="f1check needs keras >= 3.7 and < 4 (found 3.6.0)"),
    Corner("newest", ("-c", str(ROOT / "constraints.txt"), "keras", "tensorflow-cpu", "numpy", "jax")),
)

# What each example repo is built to give: item -> passes (tests/test_plugin_e2e.py, tests/test_legacy.py).
MODEL_REPO_WRONG = {"repo_metrics.metrics:f1", "repo_metrics.metrics:CumulativeF1", "repo_metrics.metrics:TiesF1",
                    "repo_metrics.metrics:batch_macro_f1", "repo_metrics.callbacks:predict_f1_first_batch"}
LEGACY_REPO_WRONG = {"legacy_metrics.metrics:f1"}


def expected_pass(repo: str, target: str) -> bool:
    return target not in (LEGACY_REPO_WRONG if "legacy" in repo else MODEL_REPO_WRONG)


def run(command: list[str], env: dict | None = None, cwd: Path | None = None, timeout: int = 1800):
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def build(corner: Corner, root: Path, reuse: bool) -> tuple[Path, float]:
    """The corner's virtual environment (its python), and the seconds its set-up took."""
    venv = root / corner.name
    python = venv / "bin" / "python"
    if reuse and python.exists():
        return python, 0.0
    shutil.rmtree(venv, ignore_errors=True)
    start = time.perf_counter()
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [str(python), "-m", "pip", "install", "-q", *COMMON, *corner.pins]]
    if corner.no_deps:
        steps.append([str(python), "-m", "pip", "install", "-q", "--no-deps", *corner.no_deps])
    steps.append([str(python), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)])  # as a user installs it
    for step in steps:
        done = run(step)
        if done.returncode != 0:
            raise SystemExit(f"compat: {corner.name}: {' '.join(step)} failed:\n{done.stderr[-3000:]}")
    return python, time.perf_counter() - start


def versions(python: Path) -> dict:
    code = ("import importlib.metadata as m, json\n"
            "out = {}\n"
            "for name in ('keras', 'tensorflow-cpu', 'tf-keras', 'jax', 'numpy', 'scikit-learn'):\n"
            "    try: out[name] = m.version(name)\n"
            "    except m.PackageNotFoundError: pass\n"
            "print(json.dumps(out))")
    return json.loads(run([str(python), "-c", code]).stdout)


def check(corner: Corner, python: Path, root: Path) -> dict:
    """Run the corner's example repo; the verdicts against the expected ones and the warnings from f1check."""
    repo = root / f"{corner.name}-repo"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(ROOT / corner.repo, repo)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND", "TF_USE_LEGACY_KERAS")}
    env.update(corner.env, TF_CPP_MIN_LOG_LEVEL="2")
    start = time.perf_counter()
    done = run([str(python), "-m", "pytest", "--f1check", "--f1check-examples=6",
                "--f1check-report=report.json", "-p", "no:cacheprovider", "-W", "error:::f1check", "-rA"],
               env=env, cwd=repo)
    seconds = time.perf_counter() - start
    if corner.refused is not None:  # below the range: a usage error (exit 4) at start, the one line, no report
        refused = done.returncode == 4 and corner.refused in done.stderr and not (repo / "report.json").exists()
        return {"items": 1, "wrong": [] if refused else [f"not refused: exit {done.returncode}"], "ours": [],
                "seconds": seconds, "complete": True, "refused": refused}
    report = repo / "report.json"
    if not report.exists():
        return {"error": (done.stdout + done.stderr)[-3000:], "seconds": seconds}
    results = json.loads(report.read_text())["results"]
    wrong = [f"{r['target']}[{r['mode']}] {r['status']}" for r in results
             if r["status"] == "error" or (r["status"] == "pass") != expected_pass(corner.repo, r["target"])]
    ours = re.findall(r"^\S*f1check/\S+\.py:\d+: \w*Warning.*$", done.stdout, flags=re.M)
    return {"items": len(results), "wrong": wrong, "ours": ours, "seconds": seconds,
            "complete": json.loads(report.read_text())["complete"], "tail": done.stdout[-2000:]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corner", action="append", choices=[c.name for c in CORNERS])
    parser.add_argument("--root", type=Path, default=Path("/tmp/f1check-compat"))
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args(argv)
    chosen = [c for c in CORNERS if not args.corner or c.name in args.corner]
    args.root = args.root.resolve()  # the commands run in other folders
    args.root.mkdir(parents=True, exist_ok=True)
    print("| corner | versions | repo | verdicts right | warnings of ours | set-up s | run s |")
    print("|---|---|---|---:|---:|---:|---:|")
    failed = False
    for corner in chosen:
        python, setup = build(corner, args.root, args.reuse)
        found = check(corner, python, args.root)
        shown = ", ".join(f"{k} {v}" for k, v in versions(python).items())
        if "error" in found:
            print(f"| {corner.name} | {shown} | {corner.repo} | no report | - | {setup:.0f} | {found['seconds']:.0f} |")
            print(found["error"], file=sys.stderr)
            failed = True
            continue
        right = f"{found['items'] - len(found['wrong'])}/{found['items']}" if "refused" not in found else \
            ("refused at start" if found["refused"] else "NOT refused")
        print(f"| {corner.name} | {shown} | {corner.repo} | {right} | {len(found['ours'])} | "
              f"{setup:.0f} | {found['seconds']:.0f} |", flush=True)
        for line in found["wrong"] + found["ours"]:
            print(f"  {corner.name}: {line}", file=sys.stderr)
        failed |= bool(found["wrong"] or found["ours"] or not found["complete"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
