"""Adding the table to ``pyproject.toml``: appended (the file created if absent), never over an existing
``[tool.f1check]``."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class Refused(Exception):
    """The table cannot be added; the message says why and what to do."""


def existing_table(path: Path) -> bool:
    """Whether ``path`` already has a ``[tool.f1check]`` table (in any spelling TOML allows)."""
    return "f1check" in _document(path).get("tool", {})


def _document(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise Refused(f"{path} is not valid TOML ({exc}): fix it first; init adds its table only to a file it can "
                      "read.") from None
    except OSError as exc:
        raise Refused(f"cannot read {path}: {exc.strerror or exc}.") from None


def add(path: Path, table: str) -> None:
    """Append ``table`` to ``path`` (a new file if there is none); the result must read back with the table in it."""
    if existing_table(path):
        raise Refused(f"{path} already has a [tool.f1check] table, and init never overwrites one.")
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    text = f"{before.rstrip()}\n\n{table}" if before.strip() else table
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise Refused(f"cannot write {path}: {exc.strerror or exc}.") from None
    if not existing_table(path):  # pragma: no cover - the table is TOML by construction
        path.write_text(before, encoding="utf-8")
        raise Refused(f"the table did not read back from {path}; the file was restored.")
