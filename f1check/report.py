"""Rendering: the failure message, the summary table, and the JSON report.

Pure functions of :class:`~f1check.check.Report` values; nothing here knows
about pytest or Keras.
"""

from __future__ import annotations

import math

__all__ = ["example_literal", "failure_message", "render_report", "summary_rows"]

SMALL_N = 16  # counterexamples up to this size show their labels and scores


def fmt(value: float | None, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    value = round(value, 6) + 0.0  # no "-0.000000"
    return f"{value:+.6f}" if signed else f"{value:.6f}"


def _rows(example) -> list[tuple[str, str]]:
    e = example.error
    return [
        ("reported   (what the loop logged)", fmt(example.reported)),
        ("replayed   (subject fed directly)", fmt(example.replayed)),
        ("f1_seen    (sklearn, what was fed)", fmt(example.f1_seen)),
        ("f1_all     (sklearn, all samples)", fmt(example.f1_all)),
        ("error: loop", fmt(e.loop, True)),
        ("       aggregation", fmt(e.aggregation, True)),
        ("       coverage", fmt(e.coverage, True)),
        ("       drift", fmt(e.drift, True)),
    ]


def example_table(columns: list[tuple[str, object]]) -> list[str]:
    """Side-by-side rows for the examples in ``columns`` (heading, Example)."""
    rows = [_rows(example) for _, example in columns]
    width = max(len(label) for label, _ in rows[0]) + 2
    heads = [heading for heading, _ in columns]
    cell = max(14, *(len(h) + 2 for h in heads))
    lines = ["  " + " " * width + "".join(h.ljust(cell) for h in heads).rstrip()]
    for i, (label, _) in enumerate(rows[0]):
        lines.append("  " + label.ljust(width) + "".join(r[i][1].ljust(cell) for r in rows).rstrip())
    for heading, example in columns:
        lines.append(f"  {heading}: n={example.n}, batches {example.partition.short()}")
    return lines


def example_literal(example) -> list[str]:
    """Python a user can paste to replay one example."""
    lines = [f"partition = {example.partition.literal()}"]
    if example.n <= SMALL_N and example.y_true is not None:
        y = [_num(v) for v in example.y_true.reshape(len(example.y_true), -1).tolist()]
        s = [_num(v) for v in example.scores.reshape(len(example.scores), -1).tolist()]
        lines.append(f"y_true = {y}")
        lines.append(f"scores = {s}")
    return lines


def _num(row):
    values = [float(f"{v:.6g}") for v in row]
    return values[0] if len(values) == 1 else values


def failure_message(report, rerun: str | None = None) -> str:
    """The message of :class:`~f1check.F1CheckFailure`: numbers, attribution, counterexample, rerun."""
    out = []
    for result in report.results:
        if result.passed:
            continue
        ce, worst = result.counterexample, result.worst
        out.append(
            f"f1check: {result.target} [{result.mode}] FAILED: the logged F1 is off by "
            f"{fmt(result.max_abs_error)} at worst (tolerance {result.tolerance:g}, judge {result.judge!r}, "
            f"{result.examples} example{'s' if result.examples != 1 else ''})."
        )
        columns = [("counterexample", ce)]
        if worst is not None and worst is not ce:
            columns.append(("worst", worst))
        out += example_table(columns)
        why = list(ce.diagnosis)
        if worst is not None and worst is not ce:
            why += [f"worst: {note}" for note in worst.diagnosis if note not in why]
        if why:
            out.append("  why: " + why[0])
            out += ["       " + w for w in why[1:]]
        out.append("  counterexample (smallest failing example):")
        literal = example_literal(ce)
        out += ["    " + line for line in literal]
        if report.call_args and (report.explicit_data or len(literal) > 1):
            args = [report.call_args[0], "data=(y_true, scores)", "partitions=[partition]", f"modes=[{result.mode!r}]"]
            args += [a for a in report.call_args[1:] if a.split("=")[0] not in ("modes", "seed")]
            out.append(f"    f1check.assert_f1({', '.join(args)})")
        out.append("")
    out.append(f"  {report.environment.header()}")
    if rerun:
        out.append(f"  rerun: {rerun}")
    elif report.call_args:
        args = list(report.call_args)
        args += ["data=<your data>"] if report.explicit_data else []
        args += ["partitions=<your partitions>"] if report.explicit_partitions else []
        out.append(f"  rerun: f1check.assert_f1({', '.join(args)})")
    return "\n".join(out).rstrip()


def summary_rows(report) -> list[tuple[str, ...]]:
    """(target, mode, verdict, examples, max |error|, dominant term, worst partition) per result."""
    rows = []
    for r in report.results:
        worst = r.worst
        rows.append(
            (
                r.target,
                r.mode,
                "PASS" if r.passed else "FAIL",
                str(r.examples),
                fmt(r.max_abs_error) if worst is not None else "-",
                worst.blame if worst is not None and not r.passed else "-",
                worst.partition.short() if worst is not None else "-",
            )
        )
    return rows


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return [line(header), line(tuple("-" * w for w in widths))] + [line(r) for r in rows]


SUMMARY_HEADER = ("target", "mode", "verdict", "examples", "max |error|", "dominant", "worst partition")


def render_report(report) -> str:
    lines = [report.environment.header()]
    lines += table(summary_rows(report), SUMMARY_HEADER)
    if not report.passed:
        lines += ["", failure_message(report)]
    return "\n".join(lines)
