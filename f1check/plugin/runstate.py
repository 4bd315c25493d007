"""What a ``pytest --f1check`` run keeps in ``config.stash``: shared by the plugin, its items and its reporting."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..core import backend
from ..subjects.targets import import_target
from . import config as f1config
from .fixtures import Checker


@dataclass
class RunState:
    """Everything the run needs, kept in ``config.stash``."""

    run: f1config.RunConfig
    cli: dict
    nothing: str | None = None  # why there is nothing to check (no targets), if so
    report: Path | None = None  # the JSON report's path, resolved and checked before any test
    collect: bool = False  # add the f1check collector (no path given, or f1check items named)
    selected: list[str] = field(default_factory=list)  # f1check:: node ids given on the command line
    device: str | None = None
    checker: Checker | None = None
    keras_globals: object = None  # Keras's global settings once every target module is imported

    def prime(self, root) -> None:
        """Import every target's module once, in configuration order, and keep Keras's global settings then.

        A module may change them when imported (``keras.config.set_epsilon``): each item starts from these, so
        an item's verdict does not depend on which other items ran before it (``-k``, ``--lf``, xdist).
        """
        if self.keras_globals is not None:
            return
        for spec in self.run.targets:
            for name in (spec.subject, *spec.metrics):
                try:
                    import_target(name, (root,))
                except Exception:  # the item of that target reports it
                    pass
        self.keras_globals = backend.keras_globals()


STATE = pytest.StashKey[RunState]()


def is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def run_environment(config):
    """The environment line of this run: its seed and the device it runs on."""
    state = config.stash[STATE]
    return backend.environment(state.run.seed, device=state.device)
