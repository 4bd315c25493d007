"""``python -m f1check init``: a ``[tool.f1check]`` table from a repository's source, read and never imported.

The example repositories' hand-written tables are the yardstick: init must find every target they list, with the
same settings, and ``pytest --f1check`` over the table it writes must give the hand table's verdicts."""

import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import warm

from f1check.plugin import config as f1config
from f1check.scaffold import run

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FIXTURES = Path(__file__).parent.parent / "fixtures"
MODEL_REPO, PATTERNS_REPO, LEGACY_REPO = (FIXTURES / n for n in ("model_repo", "patterns_repo", "legacy_repo"))
LEFT_BEHIND = shutil.ignore_patterns("__pycache__", "f1check-data", "out", ".hypothesis")


def copy_without_table(repo: Path, where: Path) -> Path:
    """A copy of ``repo`` whose pyproject.toml has no [tool.f1check] (the examples keep it last)."""
    shutil.copytree(repo, where, ignore=LEFT_BEHIND)
    pyproject = where / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text[: text.index("[tool.f1check]")])
    return where


def init(path, *, write: bool = False, include_tests: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run(path, write=write, include_tests=include_tests, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def resolved(table: dict, pyproject: Path | None = None) -> dict:
    """The targets as ``pytest --f1check`` resolves and validates them (the plugin's own config code)."""
    return {spec.subject: spec for spec in f1config.resolve({}, table, {}, pyproject).targets}


def table_of(text: str) -> dict:
    return tomllib.loads(text)["tool"]["f1check"]


def what(spec) -> tuple:
    """What a target checks, whatever the spelling: kind, key, companions, and the reference's settings (a class
    count left to the default is the default's 3 columns)."""
    s = spec.settings.semantics
    return (spec.callback, spec.key, frozenset(spec.metrics), s.task, s.columns, s.average, s.threshold, s.score,
            s.beta)


def hand_table(repo: Path) -> dict:
    return resolved(f1config.load_pyproject(repo)[0])


@pytest.mark.parametrize("repo", [MODEL_REPO, PATTERNS_REPO, LEGACY_REPO], ids=lambda p: p.name)
def test_init_finds_every_target_of_the_hand_written_table_with_its_settings(repo, tmp_path):
    copy = copy_without_table(repo, tmp_path / repo.name)
    status, out, err = init(copy)
    assert status == 0, err
    found = resolved(table_of(out))  # the printed table passes f1check's own validation
    hand = hand_table(repo)
    assert set(hand) <= set(found), set(hand) - set(found)
    for subject, spec in hand.items():
        assert what(found[subject]) == what(spec), subject
        if [m.value for m in spec.settings.modes] == ["validation"]:  # init reads val_ logs as the validation pass
            assert [m.value for m in found[subject].settings.modes] == ["validation"], subject
    if repo is not LEGACY_REPO:  # legacy_repo has more subjects than its table lists (checkpoint.py, weighted)
        assert set(found) == set(hand)
    assert "not listed: " in out  # the count metrics, each named with the callback that reads them


def test_count_metrics_go_in_their_callbacks_metrics_and_are_not_targets(tmp_path):
    _, out, _ = init(copy_without_table(MODEL_REPO, tmp_path / "repo"))
    found = resolved(table_of(out))
    assert "repo_metrics.metrics:tp" not in found
    assert set(found["repo_metrics.callbacks:F1FromLogs"].metrics) == {
        "repo_metrics.metrics:tp", "repo_metrics.metrics:actual_positives", "repo_metrics.metrics:predicted_positives"}
    assert "not listed: repo_metrics.metrics:tp - a count metric read by repo_metrics.callbacks:F1FromLogs" in out
    # PredictF1(x, y) needs arguments f1check cannot give: it is listed through the repository's factories
    assert "repo_metrics.callbacks:PredictF1" not in found
    assert {"repo_metrics.callbacks:predict_f1", "repo_metrics.callbacks:predict_f1_first_batch"} <= set(found)
    assert "# repo_metrics/metrics.py:9 f1: a metric function (y_true, y_pred)" in out  # where, and what it is


SPELLINGS = {
    "pkg/__init__.py": "from .metrics import AliasF1  # re-exported\n",
    "pkg/base.py": """
        import tensorflow as tf


        class Counts(tf.keras.metrics.Metric):
            '''Holds the confusion counts; its subclasses compute the score.'''

            def update_state(self, y_true, y_pred, sample_weight=None):
                pass
    """,
    "pkg/metrics.py": """
        import tf_keras
        from keras import metrics as km
        from tensorflow.keras.metrics import Metric

        from . import base
        from .base import Counts


        class AliasF1(km.Metric):
            def result(self):
                return 0.0


        class LegacyF1(tf_keras.metrics.Metric):
            def result(self):
                return 0.0


        class ImportedPrecision(Metric):
            def result(self):
                return 0.0


        class CountsF1(Counts):
            def result(self):
                return 0.0


        class ModuleAttributeMCC(base.Counts):
            def result(self):
                return 0.0


        class MacroF1(km.Metric):
            def __init__(self, num_classes, name="macro_f1"):
                super().__init__(name=name)

            def result(self):
                return 0.0


        def make_macro_f1():
            return MacroF1(num_classes=4)


        class NeedsThresholdF1(km.Metric):
            def __init__(self, threshold):
                super().__init__()

            def result(self):
                return 0.0


        def f1(path):
            '''Reads an F1 table from a file: not a metric.'''


        def f1_from(precision, recall):
            return 2 * precision * recall / (precision + recall)


        def _private_f1(y_true, y_pred):
            return 0.0


        def accuracy_m(y_true, y_pred):
            return 0.0


        def tp(y_true, y_pred):
            return 0.0


        def possible(y_true, y_pred):
            return 0.0


        def predicted(y_true, y_pred):
            return 0.0
    """,
    "pkg/callbacks.py": """
        from tensorflow import keras


        class ValF1(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                logs["val_f1"] = 2 * logs["val_tp"] / (logs["val_possible"] + logs["val_predicted"])


        def make_logger():
            class Logger(keras.callbacks.Callback):
                def on_epoch_end(self, epoch, logs=None):
                    logs.update({"epoch_f1": 1.0})

            return Logger()


        class LearningRateLogger(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs["lr_seen"] = 0.1
    """,
    "pkg/train.py": """
        import keras


        def batch_score(y_true, y_pred):
            '''F1 of one batch, averaged over classes.'''
            return 0.0


        def build():
            model = keras.Sequential([keras.layers.Dense(5, activation="softmax")])
            model.compile(loss="categorical_crossentropy", metrics=[batch_score, keras.metrics.F1Score()])
            return model
    """,
}


def write_repo(root: Path, files: dict) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def test_spellings_aliases_factories_callbacks_and_false_friends(tmp_path):
    status, out, err = init(write_repo(tmp_path, SPELLINGS))
    assert status == 0, err
    found = resolved(table_of(out))
    assert set(found) == {
        "pkg.metrics:AliasF1", "pkg.metrics:LegacyF1", "pkg.metrics:ImportedPrecision", "pkg.metrics:CountsF1",
        "pkg.metrics:ModuleAttributeMCC", "pkg.metrics:make_macro_f1", "pkg.callbacks:ValF1",
        "pkg.callbacks:make_logger", "pkg.train:batch_score",
    }
    scores = {subject: spec.settings.semantics.score for subject, spec in found.items()}
    assert scores["pkg.metrics:ImportedPrecision"] == "precision" and scores["pkg.metrics:ModuleAttributeMCC"] == "mcc"
    macro = found["pkg.metrics:make_macro_f1"].settings.semantics
    assert (macro.task, macro.classes) == ("multiclass", 4)  # num_classes=4 in the factory's call
    batch = found["pkg.train:batch_score"].settings.semantics  # named in compile(), beside Dense(5, softmax)
    assert (batch.task, batch.classes, batch.score) == ("multiclass", 5, "f1")
    val_f1 = found["pkg.callbacks:ValF1"]
    assert (val_f1.key, [m.value for m in val_f1.settings.modes]) == ("val_f1", ["validation"])
    assert set(val_f1.metrics) == {"pkg.metrics:tp", "pkg.metrics:possible", "pkg.metrics:predicted"}
    assert found["pkg.callbacks:make_logger"].key == "epoch_f1"
    for subject, why in [
        ("pkg.base:Counts", "a base class of pkg.metrics:CountsF1, pkg.metrics:ModuleAttributeMCC"),
        ("pkg.metrics:MacroF1",
         "its constructor needs (num_classes): listed through its factory pkg.metrics:make_macro_f1"),
        ("pkg.metrics:NeedsThresholdF1", "its constructor needs (threshold): write a factory"),
        ("pkg.metrics:f1", "takes (path), not (y_true, y_pred): not a metric function"),
        ("pkg.metrics:f1_from", "takes (precision, recall), not (y_true, y_pred)"),
        ("pkg.metrics:_private_f1", "private"),
        ("pkg.metrics:tp", "a count metric read by pkg.callbacks:ValF1"),
        ("keras.metrics.F1Score() (pkg/train.py:11)", "built inline in compile()"),
    ]:
        assert f"not listed: {subject} - {why}" in " ".join(out.replace("\n#  ", "").split()), subject
    assert "accuracy_m" not in out and "LearningRateLogger" not in out  # no score: not a candidate at all


INSTANCES = {
    "lib/__init__.py": "",
    "lib/scores.py": """
        import keras


        class StreamingF1(keras.metrics.Metric):
            '''F1 over the label columns of a multilabel head.'''

            def __init__(self, threshold=0.5, name="streaming_f1"):
                super().__init__(name=name)

            def result(self):
                return 0.0


        def f1_at(threshold):
            return lambda: StreamingF1(threshold=threshold)


        f1_at_03 = f1_at(0.3)
        head_f1 = StreamingF1(name="head_f1")
        F1 = StreamingF1


        def fbeta_one():
            return keras.metrics.FBetaScore(beta=1.0, threshold=0.5)
    """,
    "lib/callbacks.py": """
        import keras
        from sklearn.metrics import f1_score


        class PredictF1(keras.callbacks.Callback):
            def __init__(self, x, y, key="val_f1", average="binary"):
                super().__init__()
                self.x, self.y, self.key, self.average = x, y, key, average

            def on_epoch_end(self, epoch, logs=None):
                logs[self.key] = f1_score(self.y, self.model.predict(self.x) > 0.5, average=self.average)


        def predict_macro_f1(model, x, y):
            return PredictF1(x, y, key="val_macro_f1", average="macro")


        def weighted_predict_f1(model, x, y, *, sample_weight):
            return PredictF1(x, y)
    """,
}


def test_instances_factories_with_arguments_and_what_a_docstring_says(tmp_path):
    status, out, err = init(write_repo(tmp_path, INSTANCES))
    assert status == 0, err
    found = resolved(table_of(out))
    assert set(found) == {"lib.scores:StreamingF1", "lib.scores:f1_at_03", "lib.scores:head_f1", "lib.scores:fbeta_one",
                          "lib.callbacks:predict_macro_f1", "lib.callbacks:weighted_predict_f1"}
    semantics = {subject: spec.settings.semantics for subject, spec in found.items()}
    assert semantics["lib.scores:StreamingF1"].task == "multilabel"  # the docstring says so
    assert (semantics["lib.scores:f1_at_03"].threshold, semantics["lib.scores:f1_at_03"].task) == (0.3, "multilabel")
    assert (semantics["lib.scores:fbeta_one"].score, semantics["lib.scores:fbeta_one"].beta) == ("f1", None)
    macro = found["lib.callbacks:predict_macro_f1"]  # the factory's key= and average= arguments
    assert (macro.key, macro.settings.semantics.task, macro.settings.semantics.average) == (
        "val_macro_f1", "multiclass", "macro")
    assert found["lib.callbacks:weighted_predict_f1"].key == "val_f1"  # sample_weight by keyword: f1check passes it
    flat = " ".join(out.replace("\n#  ", "").split())
    assert "not listed: lib.scores:F1 - another name for lib.scores:StreamingF1" in flat
    assert "not listed: lib.scores:f1_at - takes (threshold) and returns a factory, not a metric" in flat


def test_tests_are_read_only_when_asked(tmp_path):
    write_repo(tmp_path, {"tests/test_metrics.py": "def f1(y_true, y_pred):\n    return 0.0\n"})
    status, out, err = init(tmp_path)
    assert status == 1 and "found nothing to check in 0 Python files" in err and "--include-tests" in err
    status, out, _ = init(tmp_path, include_tests=True)
    assert status == 0 and 'metric = "tests.test_metrics:f1"' in out


def test_a_src_layout_is_dotted_from_src_with_the_pythonpath_advice(tmp_path):
    write_repo(tmp_path, {"src/pkg/__init__.py": "", "src/pkg/scores.py": "def f1_m(y_true, y_pred):\n    return 0\n"})
    status, out, _ = init(tmp_path)
    assert status == 0 and 'metric = "pkg.scores:f1_m"' in out
    assert 'add pythonpath = ["src"] to [tool.pytest.ini_options]' in " ".join(out.replace("\n#", "").split())
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["src"]\n')
    assert "add pythonpath" not in init(tmp_path)[1]


def test_no_candidates_says_what_it_looked_for_and_exits_1(tmp_path):
    write_repo(tmp_path, {"train.py": "def f1(path):\n    return open(path).read()\n"})
    status, out, err = init(tmp_path)
    assert status == 1
    assert "found nothing to check in 1 Python files" in err and "keras Metric subclasses" in err
    assert "not listed: train:f1 - takes (path)" in out  # the false friend, and why


def test_write_adds_the_table_and_creates_pyproject(tmp_path):
    copy = copy_without_table(MODEL_REPO, tmp_path / "repo")
    before = (copy / "pyproject.toml").read_text()
    status, out, err = init(copy, write=True)
    assert status == 0 and "added [tool.f1check] with 10 targets" in err
    after = (copy / "pyproject.toml").read_text()
    assert after.startswith(before.rstrip()) and after.endswith(out)
    assert len(resolved(*f1config.load_pyproject(copy))) == 10
    fresh = write_repo(tmp_path / "fresh", {"m.py": "def f1(y_true, y_pred):\n    return 0\n"})
    assert init(fresh, write=True)[0] == 0
    assert list(table_of((fresh / "pyproject.toml").read_text())["targets"][0].values()) == ["m:f1"]


@pytest.mark.parametrize("existing", ['[tool.f1check]\ntargets = ["a:b"]\n',
                                      '[[tool.f1check.targets]]\nmetric = "a:b"\n'], ids=["table", "array of tables"])
def test_write_never_overwrites_an_existing_table(tmp_path, existing):
    repo = write_repo(tmp_path, {"m.py": "def f1(y_true, y_pred):\n    return 0\n", "pyproject.toml": existing})
    status, out, err = init(repo, write=True)
    assert status == 2
    assert (repo / "pyproject.toml").read_text() == existing
    assert "already has a [tool.f1check] table, and init never overwrites one" in err
    assert 'metric = "m:f1"' in out  # what it would have added, to merge by hand


def test_write_refuses_a_pyproject_it_cannot_read(tmp_path):
    repo = write_repo(tmp_path, {"m.py": "def f1(y_true, y_pred):\n    return 0\n", "pyproject.toml": "[tool\n"})
    status, _, err = init(repo, write=True)
    assert status == 2 and "is not valid TOML" in err and (repo / "pyproject.toml").read_text() == "[tool\n"


def python_m_f1check(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "f1check", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=120)


@pytest.mark.parametrize("path", ["no/such/folder", "m.py"])
def test_a_bad_path_is_one_clear_line_and_exit_2(tmp_path, path):
    write_repo(tmp_path, {"m.py": "x = 1\n"})
    ended = python_m_f1check("init", path, cwd=tmp_path)
    assert ended.returncode == 2 and ended.stdout == ""
    assert ended.stderr.count("\n") == 1 and "Traceback" not in ended.stderr
    assert ended.stderr.startswith(f"f1check init: {path} ") and "give the repository's folder" in ended.stderr


def test_init_imports_no_framework_and_a_file_that_does_not_parse_is_noted(tmp_path):
    repo = write_repo(tmp_path, {"m.py": "def f1(y_true, y_pred):\n    return 0\n", "broken.py": "def (:\n"})
    code = ("import sys, io\nfrom f1check.scaffold import run\nrun('.', out=io.StringIO())\n"
            "print([m for m in ('tensorflow', 'keras', 'tf_keras', 'numpy', 'sklearn') if m in sys.modules])")
    ended = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=120,
                           check=False)
    assert ended.stdout.strip() == "[]", ended.stderr
    ended = python_m_f1check("init", cwd=repo)
    assert ended.returncode == 0 and "Skipped broken.py: does not parse" in ended.stdout


def test_pytest_f1check_without_a_table_names_init(pytester):
    pytester.makepyfile("def test_never_runs(): raise AssertionError('ran')")
    result = pytester.runpytest("--f1check")
    result.stderr.fnmatch_lines(["*nothing to check*Run `python -m f1check init --write` to add a table*"])
    pytester.makepyprojecttoml("[tool.f1check]\nexamples = 3\n")
    result = pytester.runpytest("--f1check")
    result.stderr.fnmatch_lines(["*lists no targets*Run `python -m f1check init` to print a table*"])


def test_the_label_forms_follow_a_sparse_loss_in_the_code(tmp_path):
    plain = write_repo(tmp_path / "plain", {"m.py": "def f1(y_true, y_pred):\n    return 0\n"})
    assert '\nlabels = ["column", "one-hot"]\n' in python_m_f1check("init", cwd=plain).stdout
    sparse = write_repo(tmp_path / "sparse", {
        "m.py": "def f1(y_true, y_pred):\n    return 0\n",
        "train.py": "def train(model):\n    model.compile(loss='sparse_categorical_crossentropy', metrics=[])\n"})
    table = python_m_f1check("init", cwd=sparse).stdout
    assert '\nlabels = ["column", "one-hot", "sparse"]\n' in table
    assert "sparse_categorical_crossentropy at train.py:2 says the loop feeds class indices" in table


def verdicts(repo: Path) -> dict:
    """``pytest --f1check`` in ``repo``, evaluate items only, a few examples: target -> (status, reason codes)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)  # the run finds the repository itself, as a user's does
    process = warm.pytest_in(repo, "--f1check", "-p", "no:cacheprovider", "-k", "evaluate", "--f1check-examples=4",
                             "--f1check-report=out/report.json", env=env)
    out, err = process.communicate(600)
    assert (repo / "out" / "report.json").is_file(), out[-3000:] + err[-3000:]
    results = json.loads((repo / "out" / "report.json").read_text())["results"]
    return {r["target"]: (r["status"], sorted(w["code"] for w in r.get("why", []))) for r in results
            if r["mode"] == "evaluate"}


@pytest.mark.long
def test_init_write_then_pytest_f1check_gives_the_hand_tables_verdicts(tmp_path):
    made = copy_without_table(MODEL_REPO, tmp_path / "made")
    ended = python_m_f1check("init", "--write", cwd=made)
    assert ended.returncode == 0, ended.stderr
    # The label forms the training code feeds are not in the metrics' code: init checks the forms Keras's examples
    # feed, (n, 1) and one-hot, as the hand table does, and says how to widen them.
    assert '\nlabels = ["column", "one-hot"]\n' in (made / "pyproject.toml").read_text()
    hand = shutil.copytree(MODEL_REPO, tmp_path / "hand", ignore=LEFT_BEHIND)
    expected, got = verdicts(hand), verdicts(made)
    assert set(expected) <= set(got)
    assert {t: got[t] for t in expected} == expected
    assert got["repo_metrics.metrics:CumulativeF1"][0] == "fail"  # the hand table checks it in fit modes only


BLOG_METRICS = """
    from keras import backend as K


    def recall_m(y_true, y_pred):
        true_positives = K.sum(K.round(K.clip(y_true * y_pred, 0, 1)))
        return true_positives / (K.sum(K.round(K.clip(y_true, 0, 1))) + K.epsilon())


    def precision_m(y_true, y_pred):
        true_positives = K.sum(K.round(K.clip(y_true * y_pred, 0, 1)))
        return true_positives / (K.sum(K.round(K.clip(y_pred, 0, 1))) + K.epsilon())


    def f1_m(y_true, y_pred):
        precision, recall = precision_m(y_true, y_pred), recall_m(y_true, y_pred)
        return 2 * ((precision * recall) / (precision + recall + K.epsilon()))
"""


@pytest.mark.parametrize("compiled, listed", [
    ('["acc", f1_m]', {"train:f1_m"}),  # precision_m and recall_m only build f1_m
    ('["acc", f1_m, precision_m, recall_m]', {"train:f1_m", "train:precision_m", "train:recall_m"}),
])
def test_building_blocks_of_a_compiled_metric_are_not_targets(tmp_path, compiled, listed):
    repo = write_repo(tmp_path, {"train.py": BLOG_METRICS + f"""

    def build(model):
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics={compiled})
"""})
    ended = python_m_f1check("init", cwd=repo)
    assert ended.returncode == 0, ended.stderr
    targets = set(re.findall(r'^metric = "([^"]+)"', ended.stdout, flags=re.M))
    assert targets == listed, ended.stdout
    for block in {"train:precision_m", "train:recall_m"} - listed:
        assert f"# not listed: {block} - a building block of train:f1_m" in ended.stdout
