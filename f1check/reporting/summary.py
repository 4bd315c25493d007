"""The run as Markdown, for a CI run's page: ``$GITHUB_STEP_SUMMARY`` (appended) or ``--f1check-summary PATH``.

A header with what reproduces the run, one table row per item (target × mode: status, worst error, the main
reason, where the subject is defined), and for each item that did not pass a collapsed ``<details>`` with the
numbers, every reason and the snippet that reproduces it. Built by the controller from the same records as the
JSON report, once, at the end of the run. Pure text; no framework.
"""

from __future__ import annotations

from pathlib import Path

from ..core.modes import NAMES as MODE_NAMES
from ..core.modes import Mode
from ..judging.reference import TERMS

__all__ = ["markdown"]

SNIPPET_LIMIT = 20_000  # characters of one snippet shown (the JSON report keeps all of it)
TOTAL_LIMIT = 900_000  # GitHub shows at most 1 MiB of a step's summary
NUMBERS = (("reported", "what the loop logged"), ("replayed", "the subject fed directly"),
           ("f1_seen", "sklearn on what was fed"), ("f1_all", "sklearn on all samples"))


def markdown(environment: dict, results: list[dict], complete: bool, links_from: Path | None = None) -> str:
    """The summary of ``results`` (the JSON report's records, with ``defined_at``) under ``environment`` (the
    report's, in its order); pictures linked relative to ``links_from`` (the summary's folder) when given, else
    named."""
    counts = {s: sum(r["status"] == s for r in results) for s in ("fail", "error", "pass")}
    told = ", ".join(f"{n} {word}" for n, word in ((counts["fail"], "failed"), (counts["error"], "errors"),
                                                     (counts["pass"], "passed")) if n)
    lines = [f"## f1check: {told or 'nothing ran'}{'' if complete else ' (incomplete run)'}", "",
             " · ".join(f"{k} {v}" for k, v in environment.items()), "",
             "| item | mode | status | max abs error | why | defined at |",
             "|---|---|---|---:|---|---|"]
    lines += [_row(r) for r in results]
    details = [_details(r, links_from) for r in results if r["status"] != "pass"]
    noted = [f"- `{_cell(_item(r))}` [{_mode(r)}]: {_cell(n['text'])} ({n['code']})" for r in results
             if r["status"] == "pass" for n in r.get("notes", ())]
    if noted:
        lines += ["", "Notes on items that passed:", "", *noted]
    text = "\n".join(lines) + "\n"
    for block in details:
        if len(text) + len(block) > TOTAL_LIMIT:
            text += f"\n{len(details)} items did not pass; the rest of their details are in the JSON report.\n"
            break
        text += "\n" + block
    return text


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _item(result: dict) -> str:
    """The item's name without its mode: the target, numbered when it is listed again (``target(2)``)."""
    name = str(result.get("nodeid", result["target"])).removeprefix("f1check::")
    return name.rsplit("[", 1)[0] if name.endswith("]") else name


def _row(result: dict) -> str:
    status = {"fail": "**FAIL**", "error": "**ERROR**"}.get(result["status"], "pass")
    error = "-" if result["status"] == "error" else _value(result.get("max_abs_error", 0))  # "nan" as it is
    why = result["why"][0]["code"] if result.get("why") else (
        f"note: {result['notes'][0]['code']}" if result.get("notes") else "-")
    where = f"`{result['defined_at']}`" if result.get("defined_at") else "-"
    return f"| `{_cell(_item(result))}` | {_mode(result)} | {status} | {error} | {why} | {where} |"


def _mode(result: dict) -> str:
    """The mode as the summary says it: ``reloaded (after load_model)``."""
    return Mode(result["mode"]).said if result["mode"] in MODE_NAMES else str(result["mode"])


def _details(result: dict, links_from: Path | None) -> str:
    title = f"<code>{_item(result)}</code> [{_mode(result)}]"
    if result["status"] == "error":
        head = f"{title}: error"
        body = ["```text", str(result.get("error", "")).strip(), "```"]
    else:
        head = f"{title}: off by {_value(result['max_abs_error'])}"
        body = _numbers(result.get("counterexample") or result.get("worst") or {})
    if result.get("why"):
        head += f" ({result['why'][0]['code']})"
        body += [""] + [f"- **{w['code']}**: {_cell(w['text'])}" for w in result["why"]]
    if result.get("defined_at"):
        body += ["", f"Defined at `{result['defined_at']}`."]
    if result.get("picture"):
        picture = Path(result["picture"])
        if links_from is not None:
            body += ["", f"![{_cell(_item(result))} [{result['mode']}]]({_relative(picture, links_from)})"]
        else:
            body += ["", f"Picture: `{picture.name}` in the run's `f1check-plots/` artifact."]
    snippet = result.get("reproduce")
    if snippet:
        shown = snippet if len(snippet) <= SNIPPET_LIMIT else snippet[:SNIPPET_LIMIT] + "\n# ... (the rest in the JSON report)"
        body += ["", "Reproduce (paste into Python inside the repository):", "", "```python", shown, "```"]
    return "\n".join([f"<details><summary>{head}</summary>", "", *body, "", "</details>", ""])


def _numbers(example: dict) -> list[str]:
    if not example:
        return []
    rows = ["| | counterexample |", "|---|---:|"]
    rows += [f"| {k} ({says}) | {_value(example.get(k))} |" for k, says in NUMBERS if k in example]
    error = example.get("error") or {}
    for term, value in sorted(error.items(), key=lambda kv: TERMS.index(kv[0]) if kv[0] in TERMS else len(TERMS)):
        rows.append(f"| error: {term} | {_value(value, signed=True)} |")
    fed = f"n={example.get('n')}, batches {_cell(example.get('batch_sizes'))}"
    if example.get("dropped"):
        fed += f", {example['dropped']} dropped"
    return rows + ["", f"Fed: {fed}, feed {example.get('feed', '-')}."]


def _value(value, signed: bool = False) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:+.6f}" if signed else f"{value:.6f}"
    return _cell(value)


def _relative(path: Path, start: Path) -> str:
    import os

    try:
        return Path(os.path.relpath(path, start)).as_posix()
    except ValueError:  # another drive
        return path.as_posix()
