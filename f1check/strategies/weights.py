"""Strategies of weights: per-sample weights and class weights of the kinds that expose weighting bugs.

Per-sample weights mix integers above 1 (a metric that ignores them, or
squares them, is off), zeros (a zero-weight positive: a metric that treats
weights as a 0/1 mask is off only with other values), fractions, and all
equal (sklearn's value does not change when every weight is scaled).  Class
weights are never all equal and never only 0 and 1.
"""

from __future__ import annotations

from .validate import whole

# The value sets per-sample weights are drawn from (a seeded draw per sample; large n cost one numpy call).
SETS = ((0.0, 1.0, 2.0, 3.0), (0.5, 1.0, 1.5), (0.0, 0.5, 1.0, 2.0, 3.0), (1.0, 4.0))
EQUAL = (1.0, 2.0, 0.5)
CLASS_VALUES = (0.5, 1.0, 2.0, 2.5, 3.0)


def _drawn(n: int, values: tuple, seed: int):
    import numpy as np

    return np.random.default_rng(seed).choice(np.asarray(values, np.float32), size=n).astype(np.float32)


def _equal(n: int, value: float):
    import numpy as np

    return np.full(n, value, np.float32)


def sample_weights(n: int):
    """Per-sample weights for ``n`` samples, ``(n,)`` float32 arrays >= 0."""
    from hypothesis import strategies as st

    n = whole("n", n, 1)
    return st.one_of(
        st.builds(_drawn, st.just(n), st.sampled_from(SETS), st.integers(0, 2**32 - 1)),
        st.builds(_equal, st.just(n), st.sampled_from(EQUAL)),
    )


def class_weights(classes: int):
    """``{class: weight}`` dicts over ``classes`` classes whose weights are not all equal."""
    from hypothesis import strategies as st

    classes = whole("classes", classes, 2)
    values = st.lists(st.sampled_from(CLASS_VALUES), min_size=classes, max_size=classes)
    return values.filter(lambda w: len(set(w)) > 1).map(lambda w: dict(enumerate(w)))
