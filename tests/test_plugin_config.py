"""The plugin's options and configuration: help, precedence, and every bad value refused up front."""

import pytest
from _pytest.config import ExitCode

from f1check.core import backend
from f1check.plugin import config as f1config
from f1check.plugin.options import DEVICE, EXAMPLES, JUDGE, OPTION, REPORT, SEED, TOLERANCE

pytest_plugins = ["pytester"]

# In-process pytester runs roll sys.modules back afterwards; numpy cannot be imported twice in a
# process, so the frameworks a run may load are imported here first.
backend.keras()


def test_help_lists_the_options_in_their_group(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*f1check: is the F1 your Keras loop logs true?*",
            f"*{OPTION} *Check the targets in*",
            f"*{EXAMPLES}=N*Default: 50*",
            f"*{SEED}=S*",
            f"*{TOLERANCE}=T*",
            "*Largest |reported - sklearn| that passes. Default: 0.001*",
            f"*{JUDGE}*",
            f"*{DEVICE}*",
            f"*{REPORT}=PATH*",
            "*--f1check-replicas=R*",
        ]
    )


def write_config(pytester, body: str):
    pytester.makepyprojecttoml("[tool.f1check]\n" + body)


BAD_CONFIG = [
    ("negative tolerance", 'tolerance = -0.5\ntargets = []', [], "Invalid tolerance -0.5 (from [[]tool.f1check[]] in *pyproject.toml): *cannot be negative*"),
    ("unknown mode", 'modes = ["evaluate", "fitt"]\ntargets = []', [], "Invalid mode 'fitt' *valid values are 'evaluate', 'fit', 'fit-dropped', 'validation', 'validation-dropped', 'reloaded'. Did you mean 'fit'?"),
    ("unknown average", 'average = "macr"\ntargets = []', [], "Invalid average 'macr'*Did you mean 'macro'?"),
    ("unknown task", 'task = "multilable"\ntargets = []', [], "Invalid task 'multilable'*Did you mean 'multilabel'?"),
    ("unknown judge", 'judge = "totl"\ntargets = []', [], "Invalid judge 'totl'*Did you mean 'total'?"),
    ("unknown device", 'device = "gpus"\ntargets = []', [], "Invalid device 'gpus'*Did you mean 'gpu'?"),
    ("targets not a list", 'targets = "pkg.metrics:f1"', [], "Invalid targets 'pkg.metrics:f1' *targets is a list*"),
    ("unknown key in a target", 'targets = [{ metric = "a:b", treshold = 0.3 }]', [], "unknown key 'treshold' in targets[[]0[]]*Did you mean 'threshold'?"),
    ("unknown top-level key", 'tolerence = 0.01\ntargets = []', [], "unknown key 'tolerence' in [[]tool.f1check[]]*Did you mean 'tolerance'?"),
    ("callback without key", 'targets = [{ callback = "a:b" }]', [], "*a callback target needs key = *"),
    ("target not module:attr", 'targets = ["pkg.metrics.f1"]', [], "*'pkg.metrics.f1' is not a 'module:attr' string*"),
    ("per-target override", 'targets = [{ metric = "a:b", judge = "al" }]', [], "Invalid judge 'al' (from targets[[]0[]]*"),
    ("negative tolerance on the command line", "targets = []", [f"{TOLERANCE}=-1"], "Invalid tolerance -1.0 (from --f1check-tolerance)*"),
    ("zero replicas", 'targets = [{ metric = "a:b", replicas = 0 }]', [], "Invalid replicas 0 (from targets[[]0[]]*whole number >= 1*"),
    ("fbeta without beta", 'targets = ["a:b", { metric = "c:d", score = "fbeta" }]', [],
     "Invalid beta None (from targets[[]1[]]*score='fbeta' needs beta = *"),
    ("the device as the header spells it", 'device = "GPU"\ntargets = ["a:b"]', [], "Invalid device 'GPU'*Did you mean 'gpu'?"),
    ("seed in a target", 'targets = [{ metric = "a:b", seed = 3 }]', [],
     "'seed' in targets[[]0[]]*is a setting of the whole run*--f1check-seed*"),
    ("no feed a mode can use", 'modes = ["fit"]\nfeeds = ["generator-no-steps"]\ntargets = ["a:b"]', [],
     "Invalid feeds [[]'generator-no-steps'[]]*none of them can feed mode 'fit'*"),
    ("an empty report path", 'report = ""\ntargets = ["a:b"]', [], "Invalid report ''*give a file path*"),
    ("a zero timeout", 'timeout = 0\ntargets = ["a:b"]', [], "Invalid timeout 0*seconds > 0*"),
]


@pytest.mark.parametrize("what, body, args, message", BAD_CONFIG, ids=[c[0] for c in BAD_CONFIG])
def test_bad_configuration_is_a_usage_error_before_any_test_runs(pytester, what, body, args, message):
    write_config(pytester, body)
    pytester.makepyfile("def test_never_runs(): raise AssertionError('ran')")
    result = pytester.runpytest(OPTION, *args)
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*f1check: {message}"])
    result.stdout.no_fnmatch_line("*test_never_runs*")


@pytest.mark.parametrize(
    "args, message",
    [
        ([f"{JUDGE}=totl"], "*argument --f1check-judge: invalid choice 'totl'*Did you mean 'total'?*"),
        ([f"{EXAMPLES}=many"], "*argument --f1check-examples: 'many' is not a whole number*"),
        ([f"{DEVICE}=tpu"], "*invalid choice 'tpu': valid values are 'auto', 'cpu', 'gpu'*"),
    ],
)
def test_bad_command_line_values_name_the_flag(pytester, args, message):
    result = pytester.runpytest(OPTION, *args)
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_ini_options_serve_projects_without_pyproject(pytester):
    pytester.makeini("[pytest]\nf1check_tolerance = lots\n")
    result = pytester.runpytest(OPTION)
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*Invalid tolerance 'lots' (from the ini option f1check_tolerance)*"])


def test_gpu_without_a_gpu_is_a_usage_error(pytester):
    from f1check.core.backend import gpu_available

    if gpu_available():
        pytest.skip("this machine has a GPU")
    result = pytester.runpytest(OPTION, f"{DEVICE}=gpu")
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--f1check-device gpu, but the * backend sees no GPU*"])


def assert_started_quietly(result) -> None:
    """Nothing on stderr from a run whose environment left TF_CPP_MIN_LOG_LEVEL unset: the device is chosen before
    Keras is imported, and TensorFlow's C++ start-up lines (oneDNN, absl) must not reach the user's terminal from
    that import either (the variable this process sets must not hide a leak). Asserted on the runs below that
    choose the device explicitly (cpu) and by default (auto), rather than in runs of their own."""
    assert result.stderr.lines == [], result.stderr.str()[-2000:]


def test_the_quiet_start_holds_back_only_the_start_up_lines(capfd):
    # What TensorFlow 2.21 writes to file descriptor 2 as it loads, whatever TF_CPP_MIN_LOG_LEVEL says, and a
    # line that is not start-up chatter (which must still reach the user).
    import os

    chatter = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795688505.959422   15369 port.cc:153] oneDNN custom operations are on. You may see slightly "
        "different numerical results due to floating-point round-off errors from different computation orders.\n"
    )
    with backend._quiet_start():
        os.write(2, (chatter + "E0000 something the user must see\n").encode())
    assert capfd.readouterr().err == "E0000 something the user must see\n"


def test_unknown_marker_argument_is_refused(pytester):
    write_config(pytester, "targets = []")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.f1check(tolerence=0.1)
        def test_marked():
            pass
        """
    )
    result = pytester.runpytest(OPTION)
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown argument tolerence*Did you mean 'tolerance'?*"])


def test_precedence_command_line_then_pyproject_then_ini_then_default():
    resolved = f1config.resolve(
        {"examples": 3}, {"examples": 7, "tolerance": 0.01}, {"tolerance": 0.5, "judge": "total"}, None
    )
    assert resolved.settings.examples == 3 and resolved.sources["examples"] == "--f1check-examples"
    assert resolved.settings.tolerance == 0.01 and resolved.sources["tolerance"] == "[tool.f1check]"
    assert resolved.settings.judge == "total" and resolved.sources["judge"] == "the ini option f1check_judge"
    assert resolved.seed == 0 and resolved.sources["seed"] == "the default"


def test_target_tables_override_the_top_level_and_both_forms_parse(tmp_path):
    inline = (
        "[tool.f1check]\ntolerance = 0.01\ntargets = [\n"
        '  "pkg.m:f1",\n'
        '  { metric = "pkg.m:Macro", task = "multiclass", classes = 3, tolerance = 0.1 },\n'
        '  { callback = "pkg.c:Cb", key = "f1", metrics = ["pkg.m:tp"] },\n]\n'
    )
    tables = (
        "[tool.f1check]\ntolerance = 0.01\n"
        '[[tool.f1check.targets]]\nmetric = "pkg.m:f1"\n'
        '[[tool.f1check.targets]]\nmetric = "pkg.m:Macro"\ntask = "multiclass"\nclasses = 3\ntolerance = 0.1\n'
        '[[tool.f1check.targets]]\ncallback = "pkg.c:Cb"\nkey = "f1"\nmetrics = ["pkg.m:tp"]\n'
    )
    parsed = []
    for text in (inline, tables):
        (tmp_path / "pyproject.toml").write_text(text)
        table, path = f1config.load_pyproject(tmp_path)
        parsed.append(f1config.resolve({}, table, {}, path).targets)
    assert parsed[0] == parsed[1]
    first, macro, callback = parsed[0]
    assert first.settings.tolerance == 0.01 and first.settings.semantics.task == "binary"
    assert first.settings.modes == ("evaluate", "fit", "fit-dropped")  # the gate's default modes
    sem = macro.settings.semantics
    assert macro.settings.tolerance == 0.1 and sem.average == "macro" and sem.classes == 3
    assert callback.callback and callback.key == "f1" and callback.metrics == ("pkg.m:tp",)


def test_the_fixture_checker_merges_run_marker_and_call_settings():
    from f1check.plugin.fixtures import Checker

    checker = Checker({"tolerance": 0.01, "task": "multiclass", "classes": 4, "average": "micro", "examples": 9}, seed=3)
    assert checker.options() == {"tolerance": 0.01, "task": "multiclass", "classes": 4, "average": "micro",
                                 "examples": 9, "seed": 3}
    checker.marker = {"tolerance": 0.5}
    assert checker.options(examples=2)["tolerance"] == 0.5 and checker.options(examples=2)["examples"] == 2
    # a call that changes the task takes that task's default average and classes, unless it sets them too
    changed = checker.options(task="binary")
    assert changed["task"] == "binary" and "average" not in changed and "classes" not in changed
    assert checker.options(task="multilabel", classes=3)["classes"] == 3


def test_the_model_factory_builds_seeded_compiled_models():
    import numpy as np

    from f1check.plugin.fixtures import DataFactory, ModelFactory

    make = ModelFactory("CPU", seed=7)
    first, again, other = make(features=3), make(features=3), make(features=3, seed=8)
    for a, b in zip(first.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)  # the same seed, the same starting weights
    assert any(not np.array_equal(a, b) for a, b in zip(first.get_weights(), other.get_weights()))
    multiclass = make(features=3, task="multiclass", classes=4, hidden=5)
    assert multiclass.output_shape == (None, 4) and multiclass.layers[-1].activation.__name__ == "softmax"
    x, y = DataFactory(seed=7).learnable(512, features=3)
    history = first.fit(x, y, epochs=3, batch_size=64, verbose=0).history["loss"]
    assert history[-1] < history[0]  # it learns what the data factory makes learnable


def test_valid_command_line_values_take_effect(pytester, monkeypatch):
    import json
    import xml.etree.ElementTree as ET

    write_config(pytester, 'examples = 2\ntargets = [\n  { metric = "f1check.examples:naive_f1", modes = ["evaluate"] },\n'
                 '  { callback = "f1check.examples:F1FromLogs", key = "f1", modes = ["fit-dropped"], metrics = '
                 '["f1check.examples:true_positives", "f1check.examples:actual_positives", '
                 '"f1check.examples:predicted_positives"] },\n]\n')
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    result = pytester.runpytest_subprocess(
        OPTION, f"{TOLERANCE}=0.19", f"{JUDGE}=total", f"{DEVICE}=cpu", f"{SEED}=4", f"{REPORT}=r.json",
        "--junitxml=j.xml", "-p", "no:cacheprovider")
    assert_started_quietly(result)  # --f1check-device=cpu, TF_CPP_MIN_LOG_LEVEL unset
    # Two examples: the fixed ones.  Tolerance 0.19 lets the per-batch F1 pass their errors (0.186 at worst);
    # judge total fails the count metrics on what "seen" does not bound (samples a dropped remainder never fed,
    # weights that moved during the epoch); CPU; seed 4.
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["f1check *: keras *, device CPU, --f1check-seed=4"])
    results = {r["target"]: r for r in json.loads((pytester.path / "r.json").read_text())["results"]}
    assert results["f1check.examples:naive_f1"]["status"] == "pass"
    assert results["f1check.examples:naive_f1"]["tolerance"] == 0.19
    counts = results["f1check.examples:F1FromLogs"]
    error = counts["worst"]["error"]
    assert counts["status"] == "fail" and abs(error["coverage"] + error["drift"]) > 0.19
    assert abs(error["loop"] + error["aggregation"]) < 1e-5  # right about what the loop fed
    worst = counts["worst"]
    assert {"order_seed", "epoch", "feed"} <= set(worst) and counts["examples"] == 2
    properties = {(c.get("name"), p.get("name")): p.get("value")
                  for c in ET.parse(pytester.path / "j.xml").iter("testcase") for p in c.iter("property")}
    item = "f1check.examples:F1FromLogs[fit-dropped]"
    assert properties[(item, "f1check_tolerance")] == "0.19"
    assert float(properties[(item, "f1check_max_abs_error")]) == pytest.approx(counts["max_abs_error"])
    assert properties[(item, "f1check_dominant_error")] in ("coverage", "drift")


def test_ini_options_configure_a_project_without_pyproject(pytester, monkeypatch):
    pytester.makeini(
        "[pytest]\n"
        "f1check_targets =\n    f1check.examples:StreamingF1\n    f1check.examples:TiesPositiveF1\n"
        "f1check_modes = evaluate\nf1check_examples = 3\nf1check_seed = 2\nf1check_threshold = 0.5\n"
        "f1check_feeds = pydataset numpy\nf1check_tolerance = 0.002\n"
    )
    result = pytester.runpytest_inprocess(OPTION, "-p", "no:cacheprovider", "--co", "-q")
    result.stdout.fnmatch_lines(["f1check::f1check.examples:StreamingF1[[]evaluate[]]",
                                 "f1check::f1check.examples:TiesPositiveF1[[]evaluate[]]", "2 tests collected*"])
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    result = pytester.runpytest_subprocess(OPTION, "-p", "no:cacheprovider", "-v", f"{REPORT}=r.json")
    assert_started_quietly(result)  # the default device (auto), TF_CPP_MIN_LOG_LEVEL unset
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*--f1check-seed=2*", "*tolerance 0.002*"])
    import json

    results = json.loads((pytester.path / "r.json").read_text())["results"]
    assert {r["worst"]["feed"] for r in results} <= {"pydataset", "numpy"}
    assert [r["status"] for r in results] == ["pass", "fail"] and results[0]["tolerance"] == 0.002
    assert results[0]["examples"] == 3  # f1check_examples = 3: every example of the passing check ran
    assert 1 <= results[1]["examples"] <= 3  # a failing check stops at its first failure, within the 3


NOTHING = [
    ("no pyproject.toml", None, "*has no pyproject.toml, there is no f1check_targets ini option*"),
    ("no [tool.f1check] table", '[project]\nname = "x"\n', "*pyproject.toml has no [[]tool.f1check[]] table*"),
    ("empty targets", '[tool.f1check]\ntargets = []\n', "*[[]tool.f1check[]] in *pyproject.toml lists no targets*"),
    ("no targets key", '[tool.f1check]\nexamples = 3\n', "*[[]tool.f1check[]] in *pyproject.toml lists no targets*"),
    ("a misspelled table", '[tool.f1chek]\ntargets = ["a:b"]\n',
     "*has a [[]tool.f1chek[]] table but no [[]tool.f1check[]]*Rename [[]tool.f1chek[]] to [[]tool.f1check[]]*"),
    ("another misspelling", '[tool.f1-check]\ntargets = ["a:b"]\n', "*Rename [[]tool.f1-check[]] to [[]tool.f1check[]]*"),
]


@pytest.mark.parametrize("what, pyproject, message", NOTHING, ids=[n[0] for n in NOTHING])
def test_nothing_to_check_is_a_usage_error_never_a_green_run(pytester, what, pyproject, message):
    if pyproject is not None:
        pytester.makepyprojecttoml(pyproject)
    pytester.makepyfile("def test_never_runs(): raise AssertionError('ran')")
    result = pytester.runpytest(OPTION)
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*f1check: {message}"])
    result.stdout.no_fnmatch_line("*test_never_runs*")


def test_without_targets_the_tests_marked_f1check_still_run(pytester):
    pytester.makepyprojecttoml("[tool.f1check]\nexamples = 3\n")
    pytester.makepyfile("import pytest\n\n@pytest.mark.f1check\ndef test_marked():\n    pass\n")
    result = pytester.runpytest(OPTION)
    result.assert_outcomes(passed=1)


def test_f1check_options_without_the_switch_are_an_error_when_typed_and_a_warning_from_addopts(pytester):
    write_config(pytester, 'targets = ["a:b"]')
    pytester.makepyfile("def test_plain(): pass")
    for flag in (f"{REPORT}=r.json", f"{EXAMPLES}=3", "--f1check-timeout=30", "--f1check-summary=s.md"):
        result = pytester.runpytest(flag)
        assert result.ret == ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*f1check: {flag.split('=')[0]} was given without --f1check*Add --f1check*"])
    result = pytester.runpytest(f"{REPORT}=")
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*f1check: {REPORT} is empty*"])
    pytester.makeini(f"[pytest]\naddopts = {REPORT}=r.json\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*f1check: --f1check-report (from addopts or PYTEST_ADDOPTS) did nothing*"])
    assert not (pytester.path / "r.json").exists()


def test_an_unknown_f1check_ini_option_is_an_error_with_the_nearest_spelling(pytester):
    pytester.makeini("[pytest]\nf1check_targets = a:b\nf1check_exmaples = 3\n")
    pytester.makepyfile("def test_never_runs(): raise AssertionError('ran')")
    result = pytester.runpytest(OPTION)
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown ini option 'f1check_exmaples'*Did you mean 'f1check_examples'?*"])


@pytest.mark.parametrize("where, why", [("README/r.json", "*README is a file, not a folder*"),
                                        ("out", "*it is a directory*"), ("/proc/r.json", "*is not writable*")])
def test_a_report_path_that_cannot_be_written_stops_the_run_before_any_test(pytester, where, why):
    write_config(pytester, 'targets = ["a:b"]')
    pytester.makefile("", README="a file")
    (pytester.path / "out").mkdir()
    pytester.makepyfile("def test_never_runs(): raise AssertionError('ran')")
    result = pytester.runpytest(OPTION, f"{REPORT}={where}")
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*f1check: cannot write the report to *(from --f1check-report): {why}"])
    result.stdout.no_fnmatch_line("*test_never_runs*")


@pytest.mark.parametrize("option, env, says", [
    ("--f1check-summary=README/s.md", None, "*cannot write the summary to *(from --f1check-summary): *README is a file*"),
    ("--f1check-summary=out", None, "*cannot write the summary to *(from --f1check-summary): it is a directory*"),
    ("--f1check-summary= ", None, "*--f1check-summary is empty*"),
    (None, "README/step.md", "*cannot write the summary to *(from $GITHUB_STEP_SUMMARY): *README is a file*"),
])
def test_a_summary_path_that_cannot_be_written_stops_the_run_before_any_test(pytester, monkeypatch, option, env, says):
    write_config(pytester, 'targets = ["a:b"]')
    pytester.makefile("", README="a file")
    (pytester.path / "out").mkdir()
    pytester.makepyfile("def test_never_runs(): raise AssertionError('ran')")
    if env is not None:
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / env))
    result = pytester.runpytest(OPTION, *([option] if option else []))
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([says])
    result.stdout.no_fnmatch_line("*test_never_runs*")


def test_a_bad_marker_value_is_a_usage_error_naming_the_test(pytester):
    write_config(pytester, 'targets = ["a:b"]')
    pytester.makepyfile("import pytest\n\n@pytest.mark.f1check(examples=0)\ndef test_x(f1check):\n    pass\n")
    result = pytester.runpytest(OPTION, "test_a_bad_marker_value_is_a_usage_error_naming_the_test.py")
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*Invalid examples 0 (from @pytest.mark.f1check on *test_x)*whole number >= 1*"])


def test_dash_m_f1check_selects_the_f1check_items(pytester):
    write_config(pytester, 'targets = ["a:b", "c:d"]\nmodes = ["evaluate"]')
    pytester.makepyfile("def test_plain(): pass")
    result = pytester.runpytest(OPTION, "-m", "f1check", "--co", "-q")
    result.stdout.fnmatch_lines(["f1check::a:b[[]evaluate[]]", "f1check::c:d[[]evaluate[]]", "2/3 tests collected*"])
    result.stdout.no_fnmatch_line("*test_plain*")


def test_an_unknown_f1check_node_id_is_a_usage_error_with_the_nearest_item(pytester):
    pytester.makepyprojecttoml('[tool.f1check]\nmodes = ["evaluate"]\ntargets = ["f1check.examples:StreamingF1"]\n')
    result = pytester.runpytest(OPTION, "f1check::f1check.examples:StreamingF2[evaluate]")
    assert result.ret == ExitCode.USAGE_ERROR  # 4, as other usage errors; not a collection error (2)
    result.stderr.fnmatch_lines(["*no item 'f1check::f1check.examples:StreamingF2[[]evaluate[]]'*"
                                 "Did you mean 'f1check::f1check.examples:StreamingF1[[]evaluate[]]'?*--co -q*"])
    result.stdout.no_fnmatch_line("*items.py*")
