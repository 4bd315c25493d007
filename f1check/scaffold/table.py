"""The ``[tool.f1check]`` table ``init`` prints: one ``[[tool.f1check.targets]]`` per target, each under a comment
saying where it was found and what to check, then the candidates not listed and why.

Every target is validated with the rules ``pytest --f1check`` applies (:func:`f1check.core.settings.build`, as
:mod:`f1check.plugin.config` calls it), so the table never asks for a setting f1check would refuse; a target whose
guessed settings fail becomes a note instead.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

from ..core import settings as names
from ..core.errors import ConfigError
from .compiles import sparse_evidence
from .records import Findings, Note, Target
from .sources import Repository

WIDTH = 110  # comment lines wrap here (the project's line length is 120)
TARGET_KEYS = ("metric", "callback", "key", "metrics", *names.TARGET_SETTINGS)


def toml_value(value: object) -> str:
    """A value as TOML writes it (strings double-quoted with escapes, booleans lower case, lists inline)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def validated(findings: Findings) -> Findings:
    """The findings with every target's table checked as ``pytest --f1check`` checks it; one it would refuse becomes
    a note saying why."""
    kept = []
    for target in findings.targets:
        error = refusal(target.table())
        if error is None:
            kept.append(target)
        else:
            findings.notes.append(Note(target.spec, f"f1check would refuse the settings guessed for it ({error}); "
                                       "list it by hand", target.order))
    findings.targets = kept
    return findings


def refusal(table: dict) -> str | None:
    """Why f1check would refuse a target table, or None (the keys a target takes, then the settings' own rules)."""
    unknown = [k for k in table if k not in TARGET_KEYS]
    if unknown:
        return f"unknown key {unknown[0]!r}"
    settings = {k: v for k, v in table.items() if k in names.TARGET_SETTINGS}
    try:
        names.build(settings, lambda key: "the table init wrote", gate=True)
    except ConfigError as exc:
        return str(exc)
    return None


def comment(text: str, indent: str = "") -> list[str]:
    """``text`` as TOML comment lines wrapped at :data:`WIDTH`."""
    return [f"# {line}" for line in textwrap.wrap(text, WIDTH - 2, initial_indent=indent,
                                                  subsequent_indent=indent + "  ", break_on_hyphens=False)]


def head(findings: Findings, repository: Repository) -> list[str]:
    files = f"{findings.files} Python file{'s' if findings.files != 1 else ''}"
    lines = ["[tool.f1check]"]
    lines += comment(f"Listed by `python -m f1check init` from the source under {repository.root.name}/ ({files} "
                     "read, nothing imported). Each target's score, task and classes are guessed from its name and "
                     "code: read the comment above it and fix what is wrong. `pytest --f1check` checks each target "
                     "in the default modes (evaluate, fit, fit-dropped); narrow them with modes = [...].")
    for advice in findings.advice:
        lines += comment(advice)
    lines += labels(repository)
    return lines


def labels(repository: Repository) -> list[str]:
    """The ``labels`` line: the forms Keras's own examples feed, and class indices where the code says so; a comment
    that says how to widen it (a metric right on one form can be wrong on another)."""
    forms, evidence = ["column", "one-hot"], sparse_evidence(repository)
    said = "the code read does not show what the training loop feeds, so this line checks the forms Keras's examples " \
           "feed: (n, 1) binary labels and one-hot classes"
    if evidence:
        forms.append("sparse")
        said = f"{evidence} says the loop feeds class indices, so this line checks (n, 1) binary labels, one-hot " \
               "classes and (n,) class indices"
    lines = comment(f"Label forms: f1check can feed each task's labels in every form, and a metric right on one can "
                    f"be wrong on another; {said}. Add \"flat\" if your labels come as (n,) (df[\"label\"].values), "
                    "\"sparse-column\" for (n, 1) class indices, or delete the line to check every form.")
    return [*lines, f"labels = {toml_value(forms)}"]


def render_target(target: Target) -> list[str]:
    """The comment and the ``[[tool.f1check.targets]]`` table of one target."""
    name = target.spec.split(":")[1]
    lines = ["", *comment(f"{target.where} {name}: {target.found}.")]
    for check in target.checks:
        lines += comment(f"check: {check}.", "  ")
    lines.append("[[tool.f1check.targets]]")
    lines += [f"{key} = {toml_value(value)}" for key, value in target.table().items()]
    return lines


def render(findings: Findings, repository: Repository) -> str:
    """The whole table, as it is printed or added to pyproject.toml."""
    lines = head(findings, repository)
    for target in findings.targets:
        lines += render_target(target)
    if findings.notes:
        lines += ["", *comment("Candidates not listed (add them by hand if the reason is wrong):")]
        for note in findings.notes:
            lines += comment(f"not listed: {note.spec} - {note.why}.")
    return "\n".join(lines) + "\n"


def notes_only(findings: Findings) -> str:
    """The notes alone, for a repository where nothing was listed."""
    return "".join(f"{line}\n" for note in findings.notes for line in comment(f"not listed: {note.spec} - {note.why}."))


def pythonpath_advice(repository: Repository) -> list[str]:
    """Where the package is not importable from the root: the ``pythonpath`` line that makes it so."""
    if not repository.src_layout:
        return []
    configured = ""
    for name in ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini"):
        path = repository.root / name
        if path.is_file():
            configured += _read(path)
    if any("pythonpath" in line and "src" in line for line in configured.splitlines()):
        return []
    return [("The code is under src/, which pytest does not put on sys.path: add pythonpath = [\"src\"] to "
             "[tool.pytest.ini_options] (pytest 7 and later), or install the package (pip install -e .), so that "
             "f1check (and your tests) can import the targets below.")]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
