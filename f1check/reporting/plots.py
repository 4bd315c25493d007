"""A picture of a failure (the ``plots`` extra): what each fed batch gives, what the loop logged, sklearn's value.

One PNG per failing item, 800×500, drawn with matplotlib's Agg canvas (no window, and the user's pyplot state
and backend untouched): on the left sklearn's score of each batch the loop fed the counterexample (the batches
of its worst epoch, as the recorder saw them) with, across, what the loop logged, their mean, sklearn over what
was fed and over all samples; on the right the four error terms. Without matplotlib nothing is drawn.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..core.weights import weight_of
from ..judging import reference
from ..judging.reference import TERMS

__all__ = ["available", "draw", "picture_path"]

WIDTH, HEIGHT, DPI = 8.0, 5.0, 100  # 800 x 500 pixels
LABELLED = 24  # up to this many batches, each gets its tick and its value written on it


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def picture_path(folder: Path, nodeid: str) -> Path:
    """A file name for the item: its id with what file systems and URLs dislike replaced."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid.removeprefix("f1check::")).strip("_")
    return folder / f"{name[:150]}.png"


def draw(result, semantics, path: Path, title: str | None = None) -> Path | None:
    """Draw ``result``'s counterexample (its worst example when none) to ``path``; ``None`` if nothing to draw.
    ``title`` names the item (the target and mode by default)."""
    example = result.counterexample or result.worst
    if example is None or not available():
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    batches = example.fed_batches or ()
    values = [reference.reference(b[0], b[1], semantics, weight_of(b)) for b in batches]
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, width_ratios=(3, 1))
    name = semantics.score_name
    _batches(left, values, name)
    left.axhline(example.reported, color="#c33", linewidth=2.5, label=f"logged {example.reported:.4f}", zorder=2)
    if values:
        left.axhline(sum(values) / len(values), color="#111", linestyle=":", linewidth=2,
                     label=f"mean of the batches' {name} {sum(values) / len(values):.4f}", zorder=3)
    left.axhline(example.f1_seen, color="#393", linewidth=2, label=f"sklearn on what was fed {example.f1_seen:.4f}")
    left.axhline(example.f1_all, color="#777", linestyle="--", label=f"sklearn on all samples {example.f1_all:.4f}")
    left.set_xlabel(f"fed batch ({len(values)} batch{'' if len(values) == 1 else 'es'}, n={example.n}"
                    + (f", {example.dropped} dropped)" if example.dropped else ")"))
    if 0 < len(values) <= LABELLED:
        left.set_xticks(range(1, len(values) + 1))
    else:
        left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_ylabel(name)
    left.set_ylim(-1.05 if name == "MCC" else -0.02, 1.12)
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8, frameon=False)
    _terms(right, example, result.tolerance)
    reason = result.why[0].code if result.why else "unexplained"
    said = example.mode.pass_said(example.epoch, example.epochs)
    epoch = f", {said}" if said else ""
    figure.suptitle(f"{title or f'{result.target} [{result.mode.said}]'}{epoch}: off by {example.badness():.4f} "
                    f"({reason})", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path


def _batches(axes, values: list[float], name: str) -> None:
    """sklearn's value of each fed batch, as bars (labelled while they are few)."""
    if not values:
        return
    positions = range(1, len(values) + 1)
    bars = axes.bar(positions, values, color="#9ab", label=f"sklearn {name} of each batch as fed", zorder=1)
    if len(values) <= LABELLED:
        axes.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7, padding=2)


def _terms(axes, example, tolerance: float) -> None:
    """The four error terms (reported minus sklearn, split) as bars, red past the tolerance."""
    from matplotlib.ticker import MaxNLocator

    terms = [getattr(example.error, t) for t in TERMS]
    bars = axes.barh(TERMS, terms, color=["#c33" if abs(v) > tolerance else "#9ab" for v in terms])
    axes.bar_label(bars, labels=[f"{v:+.4f}" for v in terms], fontsize=8, padding=2)
    reach = max([abs(v) for v in terms] + [tolerance]) * 2.6  # room for the labels beside the bars
    axes.set_xlim(-reach, reach)
    axes.axvline(0, color="#333", linewidth=0.8)
    axes.set_title("error terms", fontsize=10)
    axes.xaxis.set_major_locator(MaxNLocator(3, symmetric=True))
    axes.tick_params(axis="x", labelsize=7)
    axes.invert_yaxis()
