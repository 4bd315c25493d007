"""Helpers the tests share."""

import importlib.util
import os

import pytest


def require(module: str, install: str) -> None:
    """Skip when an optional module is missing, except in CI (F1CHECK_CI=1), where it is a failure.

    Keras, scikit-learn and hypothesis are required dependencies and are imported directly: a broken
    install fails, it never skips.
    """
    if importlib.util.find_spec(module) is None:
        if os.environ.get("F1CHECK_CI"):
            pytest.fail(f"{module} is not installed, and CI (F1CHECK_CI=1) must run this test: {install}")
        pytest.skip(f"{module} is not installed ({install})")


def driver(subject, mode: str = "evaluate", semantics=None):
    """A real-loop driver of a resolved ``subject`` in ``mode`` (the context a check would give it)."""
    from f1check.core.modes import Mode
    from f1check.core.settings import CheckSettings, Semantics
    from f1check.loops.drivers import Driver
    from f1check.subjects.context import CheckInputs

    inputs = CheckInputs(subject, CheckSettings(semantics=semantics or Semantics()))
    return Driver(inputs.context(Mode(mode)))


def fed(feed: str):
    """The loop settings of feed ``feed`` (a name), as ``Driver.run`` takes them."""
    from f1check.core.feeds import Feed
    from f1check.loops import LoopSettings

    return LoopSettings(Feed(feed))


def sklearn_f1(y_true, scores, threshold: float = 0.5) -> float:
    """sklearn's binary F1 of ``score > threshold``: the oracle for f1check's own reference."""
    import numpy as np
    from sklearn.metrics import f1_score

    return float(f1_score(np.ravel(y_true).astype(int), (np.ravel(scores) > threshold).astype(int), zero_division=0))


def sklearn_batch_mean(batches, threshold: float = 0.5) -> float:
    """The mean over ``[(y_true, scores), ...]`` of sklearn's F1 of each batch: what a per-batch F1 function logs."""
    values = [sklearn_f1(y, s, threshold) for y, s in batches]
    return sum(values) / len(values)


def rendered_table(text: str) -> list[list[str]]:
    """The first table of Markdown ``text``, read back from its rendering (markdown-it-py): one list of cell
    texts (code spans and emphasis as their text) per body row."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rows, row, inside_body = [], None, False
    for token in tokens:
        if token.type == "tbody_open":
            inside_body = True
        elif token.type == "tbody_close":
            break
        elif token.type == "tr_open" and inside_body:
            row = []
        elif token.type == "inline" and row is not None:
            row.append("".join(child.content for child in token.children if child.type in ("text", "code_inline")))
        elif token.type == "tr_close" and row is not None:
            rows.append(row)
            row = None
    return rows
