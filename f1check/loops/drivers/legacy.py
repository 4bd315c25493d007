"""tf-keras (Keras 2): the same loops, driven through tf-keras's own endpoints.

With ``TF_USE_LEGACY_KERAS=1`` and tf-keras installed (:func:`backend.legacy`),
``tensorflow.keras`` *is* tf-keras, and a repository written in the 2018 style
(metric functions over ``tensorflow.keras.backend as K``, ``Metric`` and
``Callback`` subclasses from ``tensorflow.keras``) only runs in tf-keras
loops.  The pieces are those of :mod:`f1check.loops.drivers.parts`, built over
tf-keras; the ``generator`` feed goes through ``evaluate_generator`` and
``fit_generator``, the deprecated endpoints a 2018 repository calls (in
tf-keras 2.x thin wrappers over ``evaluate``/``fit``).
"""

from __future__ import annotations

from ...core.errors import SubjectError
from ...core.feeds import Feed, LoopInput
from .. import LoopSettings
from .harness import Harness


class LegacyHarness(Harness):
    """:class:`Harness` with tf-keras's modules, endpoints, logs and messages."""

    LEGACY = True
    ERROR_PREFIX = "tf-keras "

    def loop_method(self, feed: Feed, training: bool, model=None):
        """The 2018 ``*_generator`` endpoint for a generator with steps, else ``fit``/``evaluate``."""
        name = "fit" if training else "evaluate"
        return getattr(self.model if model is None else model, f"{name}_generator" if feed is Feed.GENERATOR else name)

    def evaluate_logs(self, evaluate, given: LoopInput) -> dict:
        capture = self.parts.capture()
        evaluate(*given.args, verbose=0, callbacks=[capture], **given.kwargs)  # evaluate_generator has no return_dict
        return capture.test or {}

    def endpoint(self, feed: Feed) -> str:
        return super().endpoint(feed) + ("_generator" if feed is Feed.GENERATOR else "")

    def failure(self, exc: Exception, loop: LoopSettings) -> SubjectError:
        error = super().failure(exc, loop)
        extended = SubjectError(str(error) + _shape_hint(exc, loop.feed))
        extended.code = error.code
        return extended


def _shape_hint(exc: Exception, feed: Feed) -> str:
    """Why a shape error may come from the feed: tf-keras gives generators no static shapes."""
    if feed.uniform or "shape" not in str(exc).lower():
        return ""
    return (
        "\ntf-keras feeds a generator or Sequence with every dimension unknown (labels of shape (None, None)), "
        "and a metric that needs a known last dimension fails there (tf.keras.metrics.F1Score does: tf-keras "
        "issue #771). If the repository never feeds generators, check only the feeds it uses, e.g. "
        "feeds = [\"numpy\", \"tf.data\"] in [tool.f1check] (feeds= in f1check.check)."
    )
