"""``python -m f1check merge``: one report, summary and JUnit file from the JSON reports of CI shards (issue 40).

A gate split over CI jobs (pytest-split's ``--splits N --group i``) leaves one ``--f1check-report`` per shard;
each item's seed comes from its name, so a shard gives the single run's verdict for every item it ran. This reads
the shards' reports (JSON only: no framework is imported) and writes what a single run would have written: the
report (results in the shards' order, each shard recorded under ``"shards"``), the Markdown summary (the run's own
writer, appended to ``$GITHUB_STEP_SUMMARY`` as a run does) and a JUnit file with a test case per result.

Exit status: 0 every item passed and every shard came complete; 1 an item failed or errored; 2 (one line on stderr)
a shard missing (``--expect``), incomplete (killed: its missing items have no result), unreadable, not an f1check
report, or from another schema, f1check version or environment (Keras, backend, device, seed) than the others.
The reports hold no fingerprint of the configuration beyond their environment, so that is what is compared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from ..core.modes import NAMES as MODE_NAMES
from ..core.modes import Mode
from ..reporting.report import SCHEMA_VERSION, document
from ..reporting.summary import markdown
from .files import STEP_SUMMARY
from .items import NODE, NODE_PREFIX

__all__ = ["EXIT_FAILED", "EXIT_PASSED", "EXIT_UNSOUND", "Merged", "Shard", "add_parser", "main", "merge"]

EXIT_PASSED, EXIT_FAILED, EXIT_UNSOUND = 0, 1, 2
STATUSES = ("pass", "fail", "error")


class NotAReport(Exception):
    """Why a file cannot be merged, as the end of the sentence ``<file> <reason>``."""


@dataclass
class Shard:
    """One shard's report as read: its document, or why it is not merged (``problem``)."""

    path: Path
    document: dict = field(default_factory=dict)
    problem: str | None = None

    @property
    def name(self) -> str:
        return self.path.as_posix()

    @property
    def results(self) -> list[dict]:
        return self.document.get("results", []) if self.problem is None else []

    @property
    def incomplete(self) -> str | None:
        """Why a report that was read is incomplete (its run was killed, or cut short), else None."""
        doc = self.document
        if self.problem is not None or doc.get("complete") is True:
            return None
        status = doc.get("exit_status")
        ended = "the run did not end (killed?)" if status is None else f"pytest exit status {status}"
        return f"{len(self.results)} of {doc.get('expected', '?')} items have a result, {ended}"

    def record(self) -> dict:
        """The shard as the merged report lists it."""
        doc = self.document
        return {"report": self.name, "environment": doc.get("environment"), "complete": doc.get("complete", False),
                "expected": doc.get("expected"), "exit_status": doc.get("exit_status"),
                "results": len(self.results), "problem": self.problem or self.incomplete}


@dataclass
class Merged:
    """The shards' results in one run: what the three files are written from."""

    shards: list[Shard]
    environment: dict
    results: list[dict]  # the records, each with "shard" (the Shard it came from) and "nodeid" added
    problems: list[str]

    @property
    def complete(self) -> bool:
        return not self.problems

    @property
    def expected(self) -> int | None:
        counts = [s.document.get("expected") for s in self.shards]
        return sum(counts) if all(isinstance(c, int) for c in counts) else None

    @property
    def exit_status(self) -> int:
        if self.problems:
            return EXIT_UNSOUND
        return EXIT_FAILED if any(r["status"] != "pass" for r in self.results) else EXIT_PASSED


# -- reading -----------------------------------------------------------------------------------------------------


def read_shard(path: Path) -> Shard:
    """The report at ``path``; one that cannot be read or is no f1check report carries its ``problem``."""
    shard = Shard(path)
    try:
        shard.document = validated(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        shard.problem = "is missing (no such file)"
    except (OSError, UnicodeDecodeError) as exc:
        shard.problem = f"cannot be read ({getattr(exc, 'strerror', None) or exc})"
    except json.JSONDecodeError as exc:
        shard.problem = f"is not JSON ({exc.msg} at line {exc.lineno})"
    except NotAReport as exc:
        shard.problem = str(exc)
    return shard


def validated(doc) -> dict:
    """``doc`` if it is an f1check report of this schema (the fields the merge reads), else :class:`NotAReport`."""
    if not isinstance(doc, dict) or not {"environment", "results", "complete"} <= set(doc):
        raise NotAReport("is not an f1check report (no environment, results and complete; written by "
                         "pytest --f1check --f1check-report PATH)")
    if doc.get("version") != SCHEMA_VERSION:
        raise NotAReport(f"is a report of schema version {doc.get('version')!r}, and this f1check reads version "
                         f"{SCHEMA_VERSION}: merge with the f1check that wrote it")
    environment = doc["environment"]
    if not isinstance(environment, dict) or "f1check" not in environment:
        raise NotAReport("is not an f1check report (its environment names no f1check version)")
    if not isinstance(doc["results"], list):
        raise NotAReport("is not an f1check report (its results are not a list)")
    for number, result in enumerate(doc["results"], 1):
        if not isinstance(result, dict) or result.get("status") not in STATUSES or \
                result.get("mode") not in MODE_NAMES or not isinstance(result.get("target"), str):
            raise NotAReport(f"is not an f1check report (its result {number} has no target, mode and status)")
        for key in ("why", "notes"):
            reasons = result.get(key, [])
            if not isinstance(reasons, list) or not all(isinstance(r, dict) and {"code", "text"} <= set(r)
                                                        for r in reasons):
                raise NotAReport(f"is not an f1check report (its result {number} has a {key} that is not a list "
                                 f"of reasons with code and text)")
    return doc


def mismatch(environment: dict, reference: dict, first: str) -> str | None:
    """How ``environment`` differs from the first shard's (``reference``, read from ``first``), or None."""
    keys = sorted(set(environment) | set(reference), key=lambda k: (k != "f1check", k))
    differ = [f"{k} {environment.get(k)!r} where {first} has {reference.get(k)!r}" for k in keys
              if environment.get(k) != reference.get(k)]
    if not differ:
        return None
    return f"comes from another f1check run ({', '.join(differ)}): merge shards of one run only"


# -- merging -----------------------------------------------------------------------------------------------------


def merge(paths: list[Path], expect: int | None = None) -> Merged:
    """The shards at ``paths`` as one run; every reason it is not a whole run is in ``problems``."""
    shards, seen = [], set()
    for path in paths:
        shard = read_shard(path)
        key = os.path.realpath(path)
        if key in seen and shard.problem is None:
            shard.problem = "is given twice"
        seen.add(key)
        shards.append(shard)
    read = [s for s in shards if s.problem is None]
    environment = read[0].document["environment"] if read else {}
    for shard in read[1:]:
        shard.problem = mismatch(shard.document["environment"], environment, read[0].name)
    problems = [f"{s.name} {s.problem}" for s in shards if s.problem is not None]
    problems += [f"{s.name} is incomplete: {s.incomplete}" for s in shards if s.incomplete is not None]
    if expect is not None and len(shards) != expect:
        problems.append(f"{len(shards)} shard report{'s' if len(shards) != 1 else ''} given, {expect} expected "
                        f"(--expect {expect})")
    if not shards:
        problems.append("no shard report given")
    records = [{**r, "shard": s} for s in shards for r in s.results]
    return Merged(shards, environment, named(in_run_order(records)), problems)


def in_run_order(records: list[dict]) -> list[dict]:
    """The records as a single run orders them: by target in the order they come, each target's modes in mode order.

    pytest-split's default algorithm gives each shard a run of consecutive items, so the shards in group order hold
    the single run's items in its order; a target whose modes are listed out of mode order may be cut between two
    shards, and its records come back together here. A mode met again starts the next listing of a target.
    """
    listings, listing, start = [], -1, 0
    for position, record in enumerate(records):
        previous = records[position - 1] if position else {}
        if (previous.get("target"), previous.get("score")) != (record["target"], record.get("score")) or \
                record["mode"] in {r["mode"] for r in records[start:position]}:
            listing, start = listing + 1, position
        listings.append(listing)
    order = sorted(range(len(records)), key=lambda p: (listings[p], Mode(records[p]["mode"]).order, p))
    return [records[p] for p in order]


def named(records: list[dict]) -> list[dict]:
    """Each record with the node id its item had: ``target[mode]``, ``target[mode,score]`` when the target is checked
    for several scores, ``target(2)[mode]`` when listed again (as the plugin names items)."""
    scores: dict[str, set] = {}
    for record in records:
        scores.setdefault(record["target"], set()).add(record.get("score"))
    seen: dict[str, int] = {}
    out = []
    for record in records:
        target, mode, score = record["target"], record["mode"], record.get("score")
        item = f"{target}[{mode},{score}]" if len(scores[target]) > 1 else f"{target}[{mode}]"
        seen[item] = seen.get(item, 0) + 1
        if seen[item] > 1:
            item = f"{target}({seen[item]}){item[len(target):]}"
        out.append({**record, "nodeid": f"{NODE_PREFIX}{item}"})
    return out


# -- writing -----------------------------------------------------------------------------------------------------


def picture(record: dict, relative_to: Path | None) -> str | None:
    """The record's picture, found from the folder its shard's report is in, written relative to ``relative_to``
    (the merged report's folder), else as found from here."""
    if not record.get("picture"):
        return None
    found = record["shard"].path.parent / record["picture"]
    return found.as_posix() if relative_to is None else Path(os.path.relpath(found, relative_to)).as_posix()


def report_document(merged: Merged, out: Path) -> dict:
    """The merged ``--f1check-report`` document: the run's fields, then each shard's record."""
    results = []
    for record in merged.results:
        kept = {k: v for k, v in record.items() if k not in ("shard", "nodeid")}
        if kept.get("picture"):
            kept["picture"] = picture(record, out.parent)
        results.append(kept)
    doc = document(SimpleNamespace(**{k: merged.environment.get(k) for k in ("f1check", "keras", "backend",
                                                                             "device", "seed")}),
                   results, complete=merged.complete, expected=merged.expected, exit_status=merged.exit_status)
    doc["environment"] = merged.environment  # as the shards wrote it
    doc["shards"] = [s.record() for s in merged.shards]
    return doc


def summary_text(merged: Merged, links_from: Path | None) -> str:
    """The run's Markdown summary of the merged results (the single run's writer), then a line per shard."""
    results = [{**r, "picture": picture(r, None)} if r.get("picture") else r for r in merged.results]
    text = markdown(merged.environment, results, merged.complete, links_from=links_from)
    lines = ["", f"Merged from {len(merged.shards)} shard report{'s' if len(merged.shards) != 1 else ''}:", ""]
    for shard in merged.shards:
        said = shard.problem or shard.incomplete
        lines.append(f"- `{shard.name}`: {len(shard.results)} results" + (f", **{said}**" if said else ""))
    return text + "\n".join(lines) + "\n"


def junit_tree(merged: Merged) -> ET.ElementTree:
    """A JUnit file as pytest writes one: a test case per result (``<failure>``, ``<error>``), and an ``<error>``
    case per shard that did not come whole."""
    counts = {s: sum(r["status"] == s for r in merged.results) for s in STATUSES}
    unsound = [s for s in merged.shards if s.problem or s.incomplete]
    suites = ET.Element("testsuites", name="f1check merge")
    suite = ET.SubElement(suites, "testsuite", name="f1check", tests=str(len(merged.results) + len(unsound)),
                          failures=str(counts["fail"]), errors=str(counts["error"] + len(unsound)), skipped="0",
                          time="0")
    properties = ET.SubElement(suite, "properties")
    for key, value in merged.environment.items():
        ET.SubElement(properties, "property", name=key, value=str(value))
    for record in merged.results:
        suite.append(testcase(record))
    for shard in unsound:
        case = ET.SubElement(suite, "testcase", classname=NODE, name=f"shard {shard.name}", time="0")
        said = shard.problem or f"is incomplete: {shard.incomplete}"
        ET.SubElement(case, "error", message=f"{shard.name} {said}").text = \
            f"{shard.name} {said}; its items that have no result are not in this file."
    ET.indent(suites)
    return ET.ElementTree(suites)


def testcase(record: dict) -> ET.Element:
    """One result as pytest's JUnit file has it: the item's name, where its subject is defined, its key figures."""
    case = ET.Element("testcase", classname=NODE, name=record["nodeid"].removeprefix(NODE_PREFIX), time="0")
    where, _, line = str(record.get("defined_at") or "").rpartition(":")
    if where and line.isdigit():  # pytest's JUnit line is 0-based
        case.set("file", where)
        case.set("line", str(int(line) - 1))
    properties = ET.SubElement(case, "properties")
    why = record["why"][0]["code"] if record.get("why") else "-"
    for name, value in (("status", record["status"]), ("max_abs_error", record.get("max_abs_error", "-")),
                        ("why", why), ("shard", record["shard"].name)):
        ET.SubElement(properties, "property", name=f"f1check_{name}", value=str(value))
    title = f"{record['target']} [{record['mode']}]"
    if record["status"] == "error":
        error = str(record.get("error", "")).strip()
        ET.SubElement(case, "error", message=error.splitlines()[0] if error else f"{title}: error").text = error
    elif record["status"] == "fail":
        message = (f"{title} FAILED: off by {record.get('max_abs_error')} (tolerance {record.get('tolerance')})"
                   + (f": {why}" if why != "-" else ""))
        lines = [message] + [f"why: {w['text']} [{w['code']}]" for w in record.get("why", ())]
        lines += [f"defined at {record['defined_at']}"] if record.get("defined_at") else []
        lines += ["reproduce (paste into Python inside the repository):", record["reproduce"]] \
            if record.get("reproduce") else []
        ET.SubElement(case, "failure", message=message).text = "\n".join(lines)
    return case


def write(merged: Merged, args) -> str | None:
    """The files asked for; why one could not be written, else None."""
    try:
        if args.report is not None:
            text = json.dumps(report_document(merged, args.report), indent=2) + "\n"
            args.report.parent.mkdir(parents=True, exist_ok=True)
            args.report.write_text(text, encoding="utf-8")
        if args.summary is not None:
            args.summary.parent.mkdir(parents=True, exist_ok=True)
            args.summary.write_text(summary_text(merged, args.summary.parent), encoding="utf-8")
        step = os.environ.get(STEP_SUMMARY, "").strip()
        if step:  # appended, as a run appends its own; pictures named, not linked (they are in the artifacts)
            with Path(step).open("a", encoding="utf-8") as handle:
                handle.write(summary_text(merged, None))
        if args.junitxml is not None:
            args.junitxml.parent.mkdir(parents=True, exist_ok=True)
            junit_tree(merged).write(args.junitxml, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        return f"could not write {exc.filename or 'an output file'}: {exc.strerror or exc}"
    return None


# -- the command ---------------------------------------------------------------------------------------------------


def _expected_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a number of shards (at least 1)")
    return value


def add_parser(subparsers) -> argparse.ArgumentParser:
    """The ``merge`` command on ``python -m f1check``'s subcommands."""
    parser = subparsers.add_parser(
        "merge", help="merge the JSON reports of CI shards into one report, summary and JUnit file",
        description="Merge the --f1check-report files of CI shards (pytest-split's --splits N --group i) into one "
                    "report, Markdown summary and JUnit file. Exit 0: every item passed and every shard came "
                    "complete; 1: an item failed; 2: a shard missing, incomplete or from another run.")
    parser.add_argument("reports", nargs="*", type=Path, metavar="REPORT",
                        help="the shards' JSON reports, in group order (their results are merged in this order)")
    parser.add_argument("--report", type=Path, metavar="OUT", help="write the merged JSON report here. Default: none")
    parser.add_argument("--summary", type=Path, metavar="OUT",
                        help="write the merged Markdown summary here (with $GITHUB_STEP_SUMMARY set it is also "
                             "appended there). Default: none")
    parser.add_argument("--junitxml", type=Path, metavar="OUT", help="write a JUnit XML file here. Default: none")
    parser.add_argument("--expect", type=_expected_count, metavar="N",
                        help="the number of shards: fewer or more reports is exit status 2. Default: none")
    return parser


def main(args) -> int:
    """Run the ``merge`` command on parsed ``args``; print the verdict, and the reason on stderr for exit 2."""
    merged = merge(list(args.reports), args.expect)
    try:
        failure = write(merged, args)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a field no f1check report holds that way
        failure = (f"a shard report holds a value f1check cannot write out ({type(exc).__name__}: {exc}); merge the "
                   f"files pytest --f1check --f1check-report wrote, unedited")
    if failure is not None:
        print(f"f1check merge: {failure}", file=sys.stderr)
        return EXIT_UNSOUND
    counts = {s: sum(r["status"] == s for r in merged.results) for s in STATUSES}
    print(f"f1check merge: {len(merged.results)} results from {len(merged.shards)} shards: {counts['pass']} passed, "
          f"{counts['fail']} failed, {counts['error']} errors{'' if merged.complete else ' (incomplete)'}")
    if merged.problems:
        print(f"f1check merge: {'; '.join(merged.problems)}", file=sys.stderr)
    return merged.exit_status
