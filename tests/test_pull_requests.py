"""Where reviewers look (issue 24): an item located at its subject's definition, the Markdown summary, the picture.

The end-to-end run (JUnit ``file``/``line``, pytest-github-actions-annotate-failures, ``$GITHUB_STEP_SUMMARY``,
pytest-html, one PNG per failing item) is in ``tests/test_plugin_e2e.py`` on the example repo; here are the parts.
"""

import re
import struct
import textwrap
from pathlib import Path

import pytest
from f1check.reporting.summary import markdown
from support import rendered_table

import f1check
from f1check import Partition
from f1check.data import worked_example
from f1check.subjects.locations import config_line, module_file, subject_location


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def line_of(path: Path, pattern: str) -> int:
    """The 1-based line of the first match of ``pattern``: the golden line, read from the file itself."""
    return next(k for k, line in enumerate(path.read_text().splitlines(), 1) if re.match(pattern, line))


@pytest.fixture
def package(tmp_path):
    write(tmp_path, {
        "pkg/__init__.py": "from .metrics import StreamingF1 as F1\nfrom . import metrics\n",
        "pkg/metrics.py": """\
            import keras  # never imported: the source is read, not run


            def f1(y_true, y_pred):
                return 0.0


            @keras.saving.register_keras_serializable()
            class StreamingF1(keras.metrics.Metric):
                class Inner:
                    pass

                def result(self):
                    return 0.0


            macro_f1 = f1
            helper: object = None
            """,
        "pkg/sub/__init__.py": "from ..metrics import f1\n",
    })
    return tmp_path


def test_a_subject_is_located_at_its_def_or_class_line_without_importing_it(package):
    source = package / "pkg" / "metrics.py"
    assert subject_location("pkg.metrics:f1", [package]) == (source.resolve(), line_of(source, r"def f1\b"))
    assert subject_location("pkg.metrics:StreamingF1", [package]) == \
        (source.resolve(), line_of(source, r"class StreamingF1\b"))
    assert subject_location("pkg.metrics:StreamingF1.Inner", [package])[1] == line_of(source, r"\s+class Inner\b")
    assert subject_location("pkg.metrics:macro_f1", [package])[1] == line_of(source, r"macro_f1 =")
    assert subject_location("pkg.metrics:helper", [package])[1] == line_of(source, r"helper:")


def test_a_re_export_is_followed_to_the_module_that_defines_it(package):
    source = (package / "pkg" / "metrics.py").resolve()
    assert subject_location("pkg:F1", [package]) == (source, line_of(source, r"class StreamingF1\b"))
    assert subject_location("pkg.sub:f1", [package]) == (source, line_of(source, r"def f1\b"))


def test_what_has_no_readable_source_is_not_located(package, tmp_path):
    assert subject_location("pkg.metrics:missing", [package]) is None
    assert subject_location("nowhere.at.all:f1", [package]) is None
    assert subject_location("no colon", [package]) is None
    assert module_file("pkg.metrics", [package]) == (package / "pkg" / "metrics.py").resolve()
    write(tmp_path, {"broken.py": "def f1(:\n"})
    assert subject_location("broken:f1", [tmp_path]) is None


def test_the_config_fallback_is_the_line_that_names_the_target(tmp_path):
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.f1check]\ntargets = [\n  "a.b:f1",\n  { metric = "a.b:f1", modes = ["fit"] },\n]\n')
    assert config_line(config, "a.b:f1", 0) == 3
    assert config_line(config, "a.b:f1", 1) == 4
    assert config_line(config, "c.d:g", 0) is None


def records(report, nodeids):
    from f1check.reporting.report import result_json

    return [{"nodeid": nodeid, **result_json(r), "defined_at": "pkg/metrics.py:4"}
            for nodeid, r in zip(nodeids, report.results)]


def test_the_summary_renders_a_row_per_item_and_a_details_block_per_failure():
    y, s = worked_example()
    report = f1check.check("f1check.examples:naive_f1", modes=["evaluate", "fit"], data=(y, s),
                           partitions=[Partition([100, 100, 100])])
    right = f1check.check("f1check.examples:keras_f1_score", data=(y, s), partitions=[Partition([100, 100, 100])])
    found = records(report, ["f1check::f1check.examples:naive_f1[evaluate]", "f1check::f1check.examples:naive_f1[fit]"])
    found += records(right, ["f1check::f1check.examples:keras_f1_score[evaluate]"])
    text = markdown({"f1check": "0.2.0", "keras": "3", "backend": "tensorflow", "device": "CPU", "seed": 7}, found,
                    complete=True)
    assert text.startswith("## f1check: 2 failed, 1 passed\n") and "seed 7" in text
    rows = rendered_table(text)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("f1check.examples:naive_f1", "evaluate", "FAIL"), ("f1check.examples:naive_f1", "fit", "FAIL"),
        ("f1check.examples:keras_f1_score", "evaluate", "pass")]
    assert float(rows[0][3]) == pytest.approx(0.807947 - 0.643939, abs=1e-6)  # DESIGN.md's worked example
    assert rows[0][4] == "per-batch-mean" and rows[0][5] == "pkg/metrics.py:4"
    assert text.count("<details>") == 2 and text.count("</details>") == 2
    assert "| reported (what the loop logged) | 0.643939 |" in text
    assert "| f1_seen (sklearn on what was fed) | 0.807947 |" in text
    assert "f1check.assert_f1('f1check.examples:naive_f1'" in text
    assert "(incomplete run)" in markdown({}, found, complete=False)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_a_failure_is_drawn_at_800_by_500_and_a_pass_is_not(tmp_path):
    pytest.importorskip("matplotlib", reason="the plots extra: pip install -e '.[plots]'")
    from f1check.reporting import plots

    y, s = worked_example()
    result = f1check.check("f1check.examples:naive_f1", data=(y, s), partitions=[Partition([100, 100, 100])]).results[0]
    counterexample = result.counterexample
    assert len(counterexample.fed_batches) == 3  # what the picture draws: sklearn on each fed batch
    per_batch = [f1check.judging.reference.reference(b[0], b[1], f1check.core.settings.Semantics()) for b in counterexample.fed_batches]
    assert sum(per_batch) / 3 == pytest.approx(0.643939, abs=1e-6)
    path = plots.draw(result, f1check.core.settings.Semantics(), tmp_path / "plots" / "item.png", title="naive_f1[evaluate]")
    assert path == tmp_path / "plots" / "item.png" and png_size(path) == (800, 500)
    assert plots.picture_path(tmp_path, "f1check::pkg.m:f1(2)[fit]").name == "pkg.m_f1_2_fit.png"
