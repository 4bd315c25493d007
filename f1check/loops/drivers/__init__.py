"""Drivers: real Keras loops over one partition, with the recorder compiled in.

:class:`Driver` runs one subject through the loop of one mode.  It keeps a
compiled model between runs only when that cannot change what the subject
reports: when every metric it compiles really resets (see
:func:`f1check.subjects.carried_state`), or within a *sequence* of runs that
deliberately share one model, as a script that calls ``evaluate`` twice does.
"""

from __future__ import annotations

from ...core import backend
from ...core.partitions import Partition
from ...core.weights import NONE, Weights
from ...strategies import LARGEST
from ...subjects.context import CheckContext
from .. import CompileKey, LoopSettings
from .compiling import dtype_policy, fed_as
from .harness import Epoch, Harness, Observation, starting_features
from .legacy import LegacyHarness
from .parts import RECORDER_NAME

__all__ = ["RECORDER_NAME", "Driver", "Epoch", "Observation", "dtype_policy", "fed_as", "starting_features"]

# A kept model's smallest room: samples and steps (the search feeds at most 64 batches).  Room for the largest data
# the search draws (strategies.LARGEST) from the start: a table of 20,000 rows costs nothing measurable, while the
# rebuild a larger candidate forced (a compile and a trace, 0.2-0.4 s) came once or twice in most items.
MIN_ROWS = LARGEST
MIN_STEPS = 64
DEFAULT_COMPILE = CompileKey()


class Driver:
    """One subject, one mode: the real loop, over harnesses built as needed.

    ``clean`` says that the subject's metrics reset completely, so one
    compiled model may serve every run (it grows by doubling when a run needs
    more room).  Otherwise every run gets a fresh model, except the runs of a
    sequence (:meth:`begin_sequence`), which share one on purpose.
    """

    def __init__(self, context: CheckContext):
        self.context = context
        self.clean = context.clean
        self.legacy = backend.legacy()
        self.harness: Harness | None = None
        self.kept: dict[CompileKey, Harness] = {}  # clean: one kept harness per compile key
        self.builds = 0

    def _new(self, rows: int, steps: int, compile_key: CompileKey) -> Harness:
        kind = LegacyHarness if self.legacy else Harness
        if self.clean:  # kept between runs: room to spare
            rows, steps = max(rows, MIN_ROWS), max(steps, MIN_STEPS)
        self.builds += 1
        harness = kind(self.context, rows, steps, compile_key)
        if self.clean:
            self.kept[compile_key] = harness
        return harness

    def begin_sequence(self, rows: int, steps: int, compile_key: CompileKey = DEFAULT_COMPILE) -> None:
        """A fresh model with room for a sequence of runs of at most ``rows`` samples and ``steps`` steps."""
        self.harness = self._new(rows, steps, compile_key)

    def run(self, y, scores, partition: Partition, loop: LoopSettings = LoopSettings(), weights: Weights = NONE, *,
            in_sequence: bool = False) -> Observation:
        """``partition`` of ``(y, scores)`` through the real loop, run as ``loop`` says, given ``weights``."""
        current, key = self.harness, loop.compile_key
        if current is not None and current.compile_key != key:  # another compiled model: kept, or built
            current, in_sequence = self.kept.get(key), False
        if not (in_sequence and current is not None and current.holds(len(y), partition.steps)):
            if current is None or not self.clean or not current.holds(len(y), partition.steps):
                current = self._room_for(len(y), partition.steps, key, current)
        self.harness = current
        return current.run(y, scores, partition, loop, weights)

    def discard(self) -> None:
        """Forget the current model: a loop that raised inside Keras (labels a subject refuses) may leave its
        compiled functions half made, so the next run builds a fresh one."""
        if self.harness is not None:
            self.kept = {k: h for k, h in self.kept.items() if h is not self.harness}
            self.harness = None

    def model_for(self, n: int, steps: int) -> Harness:
        """A harness of this driver with room for ``n`` samples (kept if it has it): for replays that need a model."""
        if self.harness is None or not self.harness.holds(n, steps):
            key = self.harness.compile_key if self.harness is not None else DEFAULT_COMPILE
            self.harness = self._room_for(n, steps, key, self.harness)
        return self.harness

    def _room_for(self, n: int, steps: int, compile_key: CompileKey, current: Harness | None) -> Harness:
        """A new harness for ``n`` samples and ``steps`` steps; a kept one grows by doubling."""
        if current is not None and self.clean:
            n, steps = max(n, 2 * current.rows), max(steps, 2 * current.steps)
        return self._new(n, steps, compile_key)
