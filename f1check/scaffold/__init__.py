"""``python -m f1check init [PATH] [--write] [--include-tests]``: a ``[tool.f1check]`` table from a repository's
source.

The source is read, never imported (:mod:`ast`): Keras metric classes, callbacks that write a score to ``logs``,
factories of either, and metric functions ``fn(y_true, y_pred)`` become targets, each with a comment saying where it
was found and what to check; candidates that cannot be decided are listed as comments with the reason.  Without
``--write`` the table is printed; with it, it is added to ``pyproject.toml``, never over an existing
``[tool.f1check]``.  Exit status: 0 targets found, 1 none, 2 a bad path or a table already there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from . import pyproject
from .finder import find
from .records import Findings
from .sources import read
from .table import notes_only, pythonpath_advice, render, validated

__all__ = ["add_command", "main", "run", "scan"]

FOUND, NOTHING, REFUSED = 0, 1, 2
LOOKED_FOR = ("keras Metric subclasses; Callback subclasses and their factories that write a score to logs "
              "(logs[\"val_f1\"] = ...); factories returning a Keras metric; and metric functions fn(y_true, y_pred) "
              "named for a score (f1, precision, recall, fbeta, mcc) or passed to compile(metrics=[...])")


def add_command(commands) -> None:
    """The ``init`` subcommand, on the ``python -m f1check`` subparsers."""
    init = commands.add_parser(
        "init", help="list what logs F1 in a repository's source as a [tool.f1check] table",
        description=__doc__.split("\n\n")[0].replace("``", "`"))
    init.add_argument("path", nargs="?", default=".", help="the repository's folder. Default: %(default)r")
    init.add_argument("--write", action="store_true",
                      help="add the table to PATH/pyproject.toml (never over an existing [tool.f1check])")
    init.add_argument("--include-tests", action="store_true", help="also read tests/ and test_*.py files")


def main(args: argparse.Namespace) -> int:
    return run(args.path, write=args.write, include_tests=args.include_tests)


def scan(root: Path, include_tests: bool = False) -> tuple[Findings, str]:
    """The findings under ``root`` and the table they make."""
    repository = read(root, include_tests)
    findings = validated(find(repository))
    findings.advice += pythonpath_advice(repository)
    findings.advice += [f"Skipped {line}." for line in repository.unreadable]
    return findings, render(findings, repository)


def run(path: str | Path = ".", write: bool = False, include_tests: bool = False, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Print the table for the repository at ``path`` (or add it to its pyproject.toml); the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    root = _root(Path(path), err)
    if root is None:
        return REFUSED
    findings, table = scan(root, include_tests)
    if not findings.targets:
        tests = "" if include_tests else " (tests skipped: --include-tests reads them too)"
        print(f"f1check init: found nothing to check in {findings.files} Python files under {root}{tests}. It "
              f"looked for {LOOKED_FOR}. List targets by hand in [tool.f1check], e.g. targets = "
              "[\"pkg.metrics:f1\"].", file=err)
        print(notes_only(findings), end="", file=out)
        return NOTHING
    if not write:
        print(table, end="", file=out)
        return FOUND
    target = root / "pyproject.toml"
    try:
        pyproject.add(target, table)
    except pyproject.Refused as exc:
        print(f"f1check init: {exc} The table init found is below: merge what you need by hand, or remove the old "
              "table and run init --write again.", file=err)
        print(table, end="", file=out)
        return REFUSED
    print(table, end="", file=out)
    print(f"f1check init: added [tool.f1check] with {len(findings.targets)} targets to {target}. Read the comments, "
          "then run pytest --f1check.", file=err)
    return FOUND


def _root(path: Path, err: TextIO) -> Path | None:
    """The repository folder ``path`` names (its pyproject.toml names it too), or None after saying what is wrong."""
    if path.is_file() and path.name == "pyproject.toml":
        path = path.parent
    problem = None
    if not path.exists():
        problem = "does not exist"
    elif not path.is_dir():
        problem = "is a file, not a folder"
    if problem is not None:
        print(f"f1check init: {path} {problem}: give the repository's folder (the one with pyproject.toml), e.g. "
              "python -m f1check init path/to/repo.", file=err)
        return None
    return path.resolve()
