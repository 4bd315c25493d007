"""Discriminating evidence: a reading stands only where the numbers tell it apart from every other that matches.

On some data several readings give the same number: on balanced labels the
weighted average is the macro one, on one batch weights broadcast into an
outer product cancel as if ignored, and where the weight of a false positive
is to that of a true positive as clipping makes it, clipping and weighing the
true positives only agree.  Matching on many failing examples proves nothing
when every one of them is such data.  So the readings that match the chosen
example are kept only while every other failing example that tells them apart
agrees; when the search's examples cannot, f1check constructs examples on
which the readings' formulas differ (imbalanced classes, weights above 1,
several batches of unequal weight, scores on the threshold, a batch with
nothing positive), feeds them to the subject directly and keeps the readings
that still give its value.  Those that no example tells apart are named
together, "either ... or", never one at random.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.settings import CheckSettings
from ..core.weights import Batch
from ..data import synthetic
from ..judging.explain import SAME_VALUE, Explanation
from ..judging.readings import same
from ..judging.results import Example
from ..loops import LoopSettings
from ..loops.drivers import fed_as
from ..reasons import Reason
from ..subjects.context import CheckContext
from . import adversarial

__all__ = ["Evidence", "constructed", "either", "evidence_sentence", "probe", "tell_apart"]

# (what the constructed example is, its batch sizes, its positive rate, ties on the threshold, a first batch of
# true negatives): each makes some readings differ that the fixed examples may not.
CONSTRUCTED = (
    ("imbalanced classes, weights above 1, one batch", (16,), 0.25, False, False),
    ("several batches of unequal weight", (5, 7, 4), 0.4, False, False),
    ("scores on the threshold, two batches", (6, 6), 0.5, True, False),
    ("a first batch with nothing positive, then imbalanced ones", (4, 6, 6), 0.3, False, True),
)


@dataclass(frozen=True)
class Evidence:
    """What told the readings apart: a failing example the loop ran, or a constructed one fed directly."""

    example: Example | None = None
    what: str = ""
    batches: tuple = ()
    logged: float = float("nan")
    ruled_out: tuple = ()  # the explanations it ruled out
    numbers: bool = True  # whether the readings' values can be computed again over its batches


def constructed(settings: CheckSettings) -> list[tuple[str, list[Batch]]]:
    """The constructed examples, ``(what, [Batch, ...])``, the fixed dataset's probe batches first; the same for a
    seed, whatever the check's (the data is fixed here, so the verdict's words are too)."""
    import numpy as np

    semantics = settings.semantics
    found = [("the fixed examples' dataset in batches of 3, 8 and 1", adversarial.probe_batches(settings))]
    for k, (what, sizes, rate, ties, negative_first) in enumerate(CONSTRUCTED):
        rng = np.random.default_rng(3500 + k)
        y, s = synthetic(sum(sizes), semantics, rng, positive_rate=rate)
        if semantics.task != "multiclass":
            if ties:
                s[::3] = np.float32(semantics.threshold)
            if negative_first:
                y[:sizes[0]], s[:sizes[0]] = 0, np.float32(semantics.threshold / 2)
        w = rng.choice(np.asarray([0.5, 1.0, 1.5, 2.0, 3.0], np.float32), len(y))
        ends = np.cumsum((0,) + sizes)
        found.append((what, [Batch(y[a:b], s[a:b], w[a:b]) for a, b in zip(ends[:-1], ends[1:])]))
    return found


def tell_apart(example: Example, chosen: Explanation, failing: list[Example],
               context: CheckContext) -> tuple[list[Explanation], list[Evidence]]:
    """The explanations of ``example`` (``chosen`` first) that no example tells apart from ``chosen``'s value, and
    the evidence that ruled the others out, step by step (empty where nothing did)."""
    alive = _distinct([chosen, *example.explanations])
    evidence = []
    for other in failing:
        if len(alive) < 2:
            break
        if other is example or not other.explanations:
            continue
        kept = [e for e in alive if _shown_by(e, other, not context.subject.scores_itself)]
        if 0 < len(kept) < len(alive):
            ruled_out = tuple(e for e in alive if e not in kept)
            evidence.append(Evidence(other, "", tuple(other.fed_batches), other.replayed, ruled_out,
                                     not context.subject.scores_itself))
            alive = kept
    if len(alive) > 1 and context.subject.direct is not None and all(e.reading is not None for e in alive):
        alive, evidence = _probed(alive, context, evidence, example.loop)
    return alive, evidence


def probe(explanations, context: CheckContext, loop: LoopSettings) -> list[Explanation]:
    """The distinct ``explanations`` whose quantity the subject, fed the constructed examples directly (their labels
    in ``loop``'s form and dtype), still gives (all of them where no constructed example tells them apart)."""
    return _probed(_distinct(explanations), context, [], loop)[0]


def _probed(alive: list[Explanation], context: CheckContext, evidence: list[Evidence], loop: LoopSettings):
    """Feed the constructed examples to the subject directly, as ``loop`` feeds labels; keep the explanations whose
    quantity it gives."""
    for what, batches in constructed(context.settings):
        try:
            value = context.subject.direct.replay(fed_as(batches, loop, context.semantics.task, "float32"))
        except Exception:  # the subject's own error shows where f1check runs it for real
            continue
        kept = [e for e in alive if _close(e.value(batches), value)]
        if 0 < len(kept) < len(alive):
            evidence.append(Evidence(None, what, tuple(batches), value, tuple(e for e in alive if e not in kept)))
            alive = kept
        if len(alive) < 2:
            break
    return alive, evidence


def either(alive: list[Explanation], example: Example) -> tuple[Reason, ...]:
    """Readings no example tells apart, named together: what they share, then "either ... or ..."."""
    shared = [r for r in alive[0] if all(r.code in {o.code for o in e} for e in alive[1:])]
    own = [[r for r in e if r.code not in {s.code for s in shared}] for e in alive]
    texts = [" and ".join(r.text.rstrip(".") for r in rs) for rs in own if rs]
    text = ("either " + "; or ".join(texts) + f". Each gives what the subject gives on every example tried, the "
            f"constructed ones too ({example.replayed:.6f} here): its code tells which it computes.")
    return (*shared, Reason("one-of-readings", text))


def _distinct(explanations) -> list[Explanation]:
    seen, found = set(), []
    for e in explanations:
        codes = tuple(r.code for r in e)
        if codes not in seen:
            seen.add(codes)
            found.append(e)
    return found


def _shown_by(explanation: Explanation, other: Example, fed: bool) -> bool:
    """Whether ``other`` matches ``explanation``: its quantity over the batches ``other`` fed is what ``other``'s
    subject gave them (``fed``: a subject fed the loop's batches); else ``other`` shows the same codes (a callback
    scores data of its own, where its explanations were found)."""
    if fed and explanation.reading is not None and other.fed_batches:
        return _close(explanation.value(list(other.fed_batches)), other.replayed)
    codes = {r.code for r in explanation}
    return any({r.code for r in e} == codes for e in other.explanations)


def _close(a: float | None, b: float) -> bool:
    return a is not None and same(a, b, SAME_VALUE)


def evidence_sentence(kept: Explanation, evidence: Evidence) -> str:
    """`` Told apart from weights-on-true-positives on a constructed example (...), fed directly: ...``."""
    batches = list(evidence.batches)
    if (not batches and evidence.numbers) or kept.reading is None or not evidence.ruled_out:
        return ""
    sizes = [len(b[0]) for b in batches] if batches else list(evidence.example.fed_batch_sizes)
    where = (f"a constructed example ({evidence.what}; batches of {sizes}), fed to the subject directly"
             if evidence.example is None else f"the failing example fed batches of {sizes}")
    if not evidence.numbers:
        codes = ", ".join(" + ".join(r.code for r in e) for e in evidence.ruled_out)
        return f" Told apart on {where}: its numbers match this reading there, not {codes}."
    others = []
    for e in evidence.ruled_out:
        value = e.value(batches) if e.reading is not None else None
        code = " + ".join(r.code for r in e)
        if value is not None:
            others.append(f"{code} gives {value:.6f}")
    if not others:
        return ""
    return (f" Told apart on {where}: the subject gives {evidence.logged:.6f}, this reading "
            f"{kept.value(batches):.6f}, while {', '.join(others)}.")
