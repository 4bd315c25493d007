"""What the loop's compile settings change in a harness: the dtype policy a model is built under and the 16-bit
values it feeds, the two heads of a model checked on one output, and what an error under a setting means.

:class:`~f1check.loops.LoopSettings` draws the settings; :class:`~f1check.loops.drivers.harness.Harness` builds one
model per ``LoopSettings.compile_key`` with these pieces.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from ...core import backend
from ...core.feeds import Heads
from ...core.weights import Batch, weight_of
from .. import LoopSettings

if TYPE_CHECKING:
    from ...core.settings import Semantics

@contextmanager
def dtype_policy(keras, name: str):
    """Keras's global dtype policy ``name`` while a model (and the subject's metrics) is built, as a repository's
    ``keras.mixed_precision.set_global_policy(...)`` before it builds its model; the previous one after."""
    before = keras.mixed_precision.global_policy()
    if name == getattr(before, "name", before):
        yield
        return
    if backend.legacy():  # tf-keras logs once that mixed_float16 is slow without a GPU: true, and not the user's call
        from tf_keras.src.mixed_precision import device_compatibility_check

        device_compatibility_check._logged_compatibility_check = True
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


def sixteen_bit(name: str):
    """The numpy dtype a 16-bit policy computes in (ml_dtypes' bfloat16, which TensorFlow and JAX use), or None."""
    if name == "mixed_float16":
        import numpy as np

        return np.float16
    if name == "mixed_bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return None


def as_computed(values, policy: str):
    """``values`` as a model under ``policy`` outputs them: rounded to its 16-bit compute dtype (float32 kept)."""
    dtype = sixteen_bit(policy)
    return values if dtype is None else values.astype(dtype).astype(values.dtype)


def fed_as(batches: list, loop: LoopSettings, task: str, policy: str | None = None) -> list:
    """Recorded ``batches`` (held labels, float32 predictions) as ``loop`` fed them to the metrics, for a replay that
    feeds the subject what the loop fed it: the labels in the loop's form and dtype, the predictions in the dtype
    its policy computes in (16-bit under a mixed policy; ``policy`` overrides the loop's).  Under tf-keras the
    labels then go through tf-keras's own ``match_dtype_and_rank``, as its loop passes them to every metric."""
    dtype = sixteen_bit(loop.dtype_policy if policy is None else policy)
    if dtype is None and loop.held_labels:
        return batches
    form = loop.form(task)
    fed = []
    for b in batches:
        y = form.encode(b[0], loop.label_dtype)
        p = b[1] if dtype is None else b[1].astype(dtype)
        fed.append(Batch(legacy_matched(y, p) if backend.legacy() else y, p, weight_of(b)))
    return fed


def legacy_matched(y, p):
    """Labels ``y`` as tf-keras hands them to a metric beside predictions ``p`` (its ``match_dtype_and_rank``:
    ``(n,)`` made ``(n, 1)``, a float cast to the predictions' dtype)."""
    import tensorflow as tf
    from tf_keras.src.engine.compile_utils import match_dtype_and_rank

    matched, _, _ = match_dtype_and_rank(tf.constant(y), tf.constant(p), None)
    return matched.numpy()


OTHER_HEAD = "f1check_other"  # the name of the second head of a two-output model


def other_scores(values, semantics: Semantics):
    """Other labels or scores for the second head: the complement (binary, multilabel) or the classes reversed."""
    import numpy as np

    if semantics.task == "multiclass":
        return np.ascontiguousarray(values[:, ::-1])
    return (1 - values).astype(values.dtype)


def setting_hint(exc: Exception, loop: LoopSettings) -> str:
    """What a compile setting of ``loop`` has to do with ``exc``, and the fix; "" when nothing."""
    text = f"{type(exc).__name__}: {exc}"
    if loop.sixteen_bit and any(word in text for word in ("float16", "bfloat16", "half")):
        return (f". Under the dtype policy {loop.dtype_policy} the model feeds its predictions in 16 bits while the "
                "labels stay float32: cast them in the metric (y_pred = keras.ops.cast(y_pred, y_true.dtype), as "
                f"Keras's own metrics do), or leave {loop.dtype_policy} out of dtype_policies for this target.")
    if loop.jit_compile and any(word in text for word in ("XLA", "xla", "jit", "PyFunc", "py_function",
                                                         "unsupported operations", "must be a compile-time constant")):
        return (". Under jit_compile=True the step is compiled with XLA, which cannot compile this: write the "
                "subject with ops XLA supports (no tf.py_function, no numpy calls), or set jit_compile = [false] "
                "for this target.")
    if loop.outputs != "single" and isinstance(exc, KeyError):
        return (". On a model with two outputs Keras logs each head's metrics under the head's name "
                "(<head>_<metric>, val_<head>_<metric>): read those keys, as the repository's own multi-output "
                "model logs them.")
    if loop.outputs != "single" and any(w in text for w in ("dict", "list", "tuple")):
        return (f". The model has two outputs (as a {loop.outputs}): model.predict and the labels a callback "
                "factory gets follow that structure; take the head by its name (or position).")
    if loop.steps_per_execution != 1 and any(w in text for w in ("steps_per_execution", "End of sequence")):
        return (f". Keras ran {loop.steps_per_execution} steps per execution (steps_per_execution): this loop "
                "cannot; set steps_per_execution = [1] for this target.")
    return ""


class TwoHeads:
    """A two-output model's heads: the judged one (named as the check's ``output``) and ``OTHER_HEAD``, given as a
    dict or a list (``kind``); what ``compile()`` and the feeds get for it."""

    def __init__(self, output: str, kind: str, semantics):
        self.output, self.as_dict, self.semantics = output, kind == "dict", semantics

    def on_head(self, value, other=None):
        """``value`` for ``compile()`` as ``{head: value}`` (and ``other`` on the other head); None stays None."""
        if value is None:
            return value
        return {self.output: value, **({OTHER_HEAD: other} if other is not None else {})}

    def labels(self, y, loop: LoopSettings):
        """The judged head's labels ``y`` and the other head's, in the loop's form and dtype, indexed together in
        the model's output structure."""
        task = self.semantics.task
        return Heads(loop.encode(y, task), loop.encode(other_scores(y, self.semantics), task),
                     (self.output, OTHER_HEAD), as_dict=self.as_dict)

    def model(self, keras, index, judged, other):
        judged = keras.layers.Activation("linear", name=self.output)(judged)
        other = keras.layers.Activation("linear", name=OTHER_HEAD)(other)
        outputs = {self.output: judged, OTHER_HEAD: other} if self.as_dict else [judged, other]
        return keras.Model(index, outputs, name="f1check_two_heads")
