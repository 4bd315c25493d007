"""The framework versions f1check is tested on, checked at start from the installed packages' metadata.

The range is what ``benchmarks/compat.py`` runs (its table is in ``benchmarks/RESULTS.md``): outside it a run
stops before any test with the one line that says what was found and what to install, never a traceback per item.
Read from ``importlib.metadata``: nothing is imported.
"""

from __future__ import annotations

import json
import os
import re
from importlib import metadata
from pathlib import Path

from .errors import ConfigError

__all__ = ["RANGE", "check_range", "out_of_range"]

# package -> (lowest tested, first untested): the distributions that provide it, in the order looked up
RANGE = {
    "keras": ("3.7", "4"),  # 3.5 and 3.6 record no batch of fit (f1check sees nothing fed)
    "tensorflow": ("2.16", "3"),
    "tf-keras": ("2.16", "3"),
    "jax": ("0.4.30", "1"),
    "numpy": ("1.24", "3"),
}
DISTRIBUTIONS = {"tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel"),
                 "tf-keras": ("tf-keras", "tf_keras")}


def _parsed(version: str) -> tuple[int, ...]:
    """The leading release numbers (``"2.16.0rc1"`` -> ``(2, 16, 0)``)."""
    found = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in found.group(0).split(".")) if found else ()


def installed(package: str) -> str | None:
    for name in DISTRIBUTIONS.get(package, (package,)):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def backend_named() -> str:
    """The Keras backend that will load: ``KERAS_BACKEND``, else ``~/.keras/keras.json``, else tensorflow."""
    name = os.environ.get("KERAS_BACKEND", "").strip()
    if name:
        return name
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return str(json.loads(config.read_text()).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def out_of_range(legacy: bool, backend: str) -> list[str]:
    """A sentence per installed package this run needs whose version is outside :data:`RANGE`."""
    needed = ["numpy", "tf-keras", "tensorflow"] if legacy else ["numpy", "keras"]
    if not legacy and backend in ("tensorflow", "jax"):
        needed.append(backend)
    found = []
    for package in needed:
        version = installed(package)
        if version is None:
            continue  # missing: the import that needs it says so
        low, high = RANGE[package]
        if not _parsed(low) <= _parsed(version) < _parsed(high):
            found.append(f"f1check needs {package} >= {low} and < {high} (found {version}): "
                         f"pip install -U '{package}>={low},<{high}'" + (" jaxlib" if package == "jax" else ""))
    return found


def check_range(legacy: bool, backend: str | None = None) -> None:
    """A :class:`ConfigError` naming every package outside the tested range, with the install that fixes it."""
    problems = out_of_range(legacy, backend or backend_named())
    if problems:
        raise ConfigError("; ".join(problems) + ". The tested range is in docs/versions.md.")
