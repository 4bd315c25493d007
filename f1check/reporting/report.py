"""Every text and every JSON f1check writes: the failure message, the summary table, the report document.

Pure functions of result values (:class:`~f1check.judging.results.Example`,
:class:`~f1check.judging.results.Result`, :class:`Report`, Environment); nothing here
knows about pytest or Keras.  :class:`Report`, what ``check()`` returns, lives
here because printing it is what it is for: the values it holds sit a floor
below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.settings import SCORE_NAMES, CheckSettings
from ..judging.reference import Attribution
from ..judging.results import Result
from ..reasons import Reason

if TYPE_CHECKING:
    from ..core.backend import Environment

__all__ = ["Report", "example_json", "failure_message", "render", "report_json", "result_json", "summary_rows"]

SUMMARY_HEADER = ("target", "mode", "verdict", "examples", "max |error|", "why", "worst partition")
SCHEMA_VERSION = 1


@dataclass
class Report:
    """What :func:`f1check.check` found: one :class:`~f1check.judging.results.Result` per mode.

    ``str(report)`` is its table and failure messages, ``report.to_json()`` its JSON document.
    """

    results: list[Result]
    environment: Environment
    target: str = ""
    settings: CheckSettings | None = None
    explicit_data: bool = False
    explicit_partitions: bool = False
    callback_key: str | None = None
    callback_metrics: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def __str__(self) -> str:
        return render(self)

    def to_json(self) -> dict:
        return report_json(self)


def fmt(value: float | None, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    value = round(value, 6) + 0.0  # no "-0.000000"
    return f"{value:+.6f}" if signed else f"{value:.6f}"


def json_float(value: float | None):
    """A number for the JSON report: NaN and infinities as the strings ``"nan"``, ``"inf"``, ``"-inf"``
    (JSON has no such numbers, and ``null`` would read as "no value")."""
    if value is None:
        return None
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return round(float(value), 10)


# -- text ----------------------------------------------------------------------------------------------------


def _rows(example, score_name: str) -> list[tuple[str, str]]:
    e = example.error
    return [
        ("reported   (what the loop logged)", fmt(example.reported)),
        ("replayed   (subject fed directly)", fmt(example.replayed)),
        (f"f1_seen    (sklearn {score_name}, what was fed)", fmt(example.f1_seen)),
        (f"f1_all     (sklearn {score_name}, all samples)", fmt(example.f1_all)),
        ("error: loop", fmt(e.loop, True)),
        ("       aggregation", fmt(e.aggregation, True)),
        ("       coverage", fmt(e.coverage, True)),
        ("       drift", fmt(e.drift, True)),
    ]


def example_table(columns: list[tuple[str, object]], score_name: str = "F1") -> list[str]:
    """Side-by-side rows for the examples in ``columns`` (heading, Example)."""
    rows = [_rows(example, score_name) for _, example in columns]
    width = max(len(label) for label, _ in rows[0]) + 2
    heads = [heading for heading, _ in columns]
    cell = max(14, *(len(h) + 2 for h in heads))
    lines = ["  " + " " * width + "".join(h.ljust(cell) for h in heads).rstrip()]
    for i, (label, _) in enumerate(rows[0]):
        lines.append("  " + label.ljust(width) + "".join(r[i][1].ljust(cell) for r in rows).rstrip())
    for heading, example in columns:
        before = f", after {len(example.preceded_by)} run(s) on the same model" if example.preceded_by else ""
        said = example.mode.pass_said(example.epoch, example.epochs)
        epoch = f", {said}" if said else ""
        given = example.weights
        weights = f", class_weight={given.class_weight}" if given.kind.by_class else (
            f", {given.kind.describe}" if given.given else "")
        labels = f", {example.loop.labels_said()}" if example.loop.labels_said() else ""
        lines.append(f"  {heading}: n={example.n}, batches {example.partition.short()}, fed {example.feed}{labels}"
                     f"{weights}{epoch}{before}")
    return lines


def _score_name(result) -> str:
    return SCORE_NAMES.get(result.score, "F1")


def failure_message(report, rerun: str | None = None) -> str:
    """The message of :class:`~f1check.F1CheckFailure`: numbers, attribution, reasons, reproduction, rerun."""
    out = []
    for result in report.results:
        if result.passed:
            out += [f"f1check: {result.target} [{result.mode}] passed; note: {_reason_line(n)}" for n in result.notes]
            continue
        out += _failed_result(result)
    out.append(f"  {report.environment.header()}")
    if rerun:
        out.append(f"  rerun: {rerun}")
    return "\n".join(out).rstrip()


def _failed_result(result) -> list[str]:
    ce, worst = result.counterexample, result.worst
    name = _score_name(result)
    out = [
        f"f1check: {result.target} [{result.mode}] FAILED: the logged {name} is off by {fmt(result.max_abs_error)} at "
        f"worst (tolerance {result.tolerance:g}, judge {result.judge!r}, {result.examples} "
        f"example{'s' if result.examples != 1 else ''})."
    ]
    columns = [("counterexample", ce)]
    if worst is not None and worst is not ce:
        columns.append(("worst", worst))
    out += example_table(columns, name)
    if result.refused:
        out.append("  refused: " + refused_line(result))
    why = list(result.why)
    why += [note for example in (ce, worst) if example is not None for note in example.notes if note not in why]
    if why:
        out.append("  why: " + _reason_line(why[0]))
        out += ["       " + _reason_line(w) for w in why[1:]]
    if result.reproduce:
        out.append("  reproduce (the smallest failing example; paste into Python):")
        out += ["    " + line for line in result.reproduce.splitlines()]
    out.append("")
    return out


def refused_line(result) -> str:
    """``flat (n,) int64: ValueError: ...; ...``: the label forms the subject raised on (not drawn again)."""
    return "; ".join(f"{r['labels']} {r['dtype']} ({r['error'][:160]})" for r in result.refused) + \
        " (raised on: not fed again, not a failure)"


def _reason_line(reason) -> str:
    """A reason and its code, ``the subject averages per-batch F1: ... [per-batch-mean]``; a note as it is."""
    return f"{reason} [{reason.code}]" if isinstance(reason, Reason) else str(reason)


def summary_rows(report) -> list[tuple[str, ...]]:
    """(target, mode, verdict, examples, max |error|, the main reason's code, worst partition) per result."""
    return [summary_row(r) for r in report.results]


def summary_row(result) -> tuple[str, ...]:
    if result.error is not None:
        return (result.target, result.mode.value, "ERROR", "-", "-", result.main_reason,
                result.error.splitlines()[0][:60])
    worst = result.worst
    return (
        result.target,
        result.mode.value,
        result.status.upper(),
        str(result.examples),
        fmt(result.max_abs_error) if worst is not None else "-",
        result.main_reason,
        worst.partition.short() if worst is not None else "-",
    )


def table(rows: list[tuple[str, ...]], header: tuple[str, ...] = SUMMARY_HEADER) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]

    def line(cells):
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

    return [line(header), line(tuple("-" * w for w in widths))] + [line(r) for r in rows]


def render(report) -> str:
    lines = [report.environment.header()]
    lines += table(summary_rows(report))
    if not report.passed:
        lines += ["", failure_message(report)]
    return "\n".join(lines)


# -- JSON -------------------------------------------------------------------------------------------------------


def example_json(example) -> dict:
    return {
        "reported": json_float(example.reported),
        "replayed": json_float(example.replayed),
        "f1_seen": json_float(example.f1_seen),
        "f1_all": json_float(example.f1_all),
        "n": example.n,
        "batch_sizes": example.batch_sizes,
        "dropped": example.dropped,
        "order_seed": example.order_seed,
        "epoch": example.epoch + 1,
        **example.loop.json(),
        **({"replicas": example.replicas} if example.replicas > 1 else {}),
        **({"preceded_by": len(example.preceded_by)} if example.preceded_by else {}),
        "error": {t: json_float(getattr(example.error, t)) for t in Attribution.TERMS},
    }


def result_json(result) -> dict:
    if result.error is not None:  # a check that could not judge: the message, no numbers
        return {"target": result.target, "mode": result.mode.value, "score": result.score, "status": "error",
                "passed": False, "error": result.error, "why": [r.json() for r in result.why]}
    document = {
        "target": result.target,
        "mode": result.mode.value,
        "score": result.score,
        "status": result.status,
        "passed": result.passed,
        "examples": result.examples,
        "tolerance": result.tolerance,
        "max_abs_error": json_float(result.max_abs_error),
        "worst": example_json(result.worst) if result.worst else None,
        "counterexample": example_json(result.counterexample) if result.counterexample else None,
        "why": [r.json() for r in result.why],
        "notes": [r.json() for r in result.notes],
        "refused": list(result.refused),
    }
    if result.reproduce:
        document["reproduce"] = result.reproduce
    return document


def environment_json(environment) -> dict:
    return {
        "f1check": environment.f1check,
        "keras": environment.keras,
        "backend": environment.backend,
        "device": environment.device,
        "seed": environment.seed,
    }


def report_json(report) -> dict:
    return {
        "version": SCHEMA_VERSION,
        "environment": environment_json(report.environment),
        "results": [result_json(r) for r in report.results],
    }


def document(environment, results: list[dict], *, complete: bool, expected: int | None,
             exit_status: int | None) -> dict:
    """The ``--f1check-report`` document of a pytest run: result records already in JSON.

    ``complete`` is true only at the end of a run that ran every expected item (``expected``: the f1check items
    selected) and ended normally; ``exit_status`` is pytest's, None while the run goes on.
    """
    return {"version": SCHEMA_VERSION, "complete": complete, "expected": expected, "exit_status": exit_status,
            "environment": environment_json(environment), "results": results}
