"""One declaration per setting: every key of ``f1check.core.settings.SETTINGS`` is accepted wherever it applies, with
the table's default, and no key is accepted anywhere that the table does not declare.

The places: ``check()``'s keywords, ``[tool.f1check]``, a target's table, the ``f1check`` marker (and fixture),
the ``f1check_<key>`` ini options and the ``--f1check-<key>`` flags, the fields of ``CheckSettings`` and
``Semantics``; the README's key table is held to the table in test_readme.py.  Pure Python: nothing here runs a
Keras loop.
"""

import dataclasses
import inspect

import pytest

from f1check import api
from f1check.core import settings as names
from f1check.core.errors import ConfigError
from f1check.plugin import config as f1config
from f1check.plugin import fixtures, options

# check()'s keywords that are not settings: the data, what a callback subject needs, and hooks.
NOT_SETTINGS = {"subject", "data", "partitions", "callback_key", "callback_metrics", "class_weight", "progress",
                "save_dir"}
# A target table's own keys: what to check, not how.
TARGET_OWN = {"metric", "callback", "key", "metrics"}
# A valid value other than the default for each key of one check (with the keys it needs), as TOML would give it.
SAMPLES = {
    "modes": {"modes": ["fit"]}, "tolerance": {"tolerance": 0.01}, "judge": {"judge": "total"},
    "examples": {"examples": 3}, "seed": {"seed": 7}, "task": {"task": "multilabel"},
    "classes": {"task": "multiclass", "classes": 4}, "average": {"task": "multiclass", "average": "micro"},
    "threshold": {"threshold": 0.25}, "zero_division": {"zero_division": "warn"}, "score": {"score": "recall"},
    "beta": {"score": "fbeta", "beta": 2.0}, "feeds": {"feeds": ["pydataset"]}, "replicas": {"replicas": 2},
    "multiclass_scores": {"multiclass_scores": "independent"}, "timeout": {"timeout": 30.0},
    "weighted": {"weighted": True}, "weights": {"weights": ["sample"]}, "steps_per_execution": {"steps_per_execution": [2]},
    "jit_compile": {"jit_compile": [True]}, "dtype_policies": {"dtype_policies": ["mixed_bfloat16"]},
    "output": {"output": "label"},
}
ALL = [s.name for s in names.SETTINGS]


def where(key: str) -> str:
    return "the test"


def resolve(table: dict, ini: dict | None = None) -> f1config.RunConfig:
    return f1config.resolve({}, table, ini or {}, None)


def captured_check(monkeypatch, **keywords) -> names.CheckSettings:
    """The settings ``check()`` builds from ``keywords`` (the check itself not run)."""
    monkeypatch.setattr(api, "run_check", lambda subject, chosen, *args: chosen)
    return api.check("pkg:subject", **keywords)


class FakeIni:
    """``config.getini`` as pytest answers it: strings, lists of strings for ``args``/``linelist``, booleans."""

    def __init__(self, given: dict):
        self.given = given

    def getini(self, name: str):
        key = name.removeprefix("f1check_")
        kind = names.KEYS[key].ini
        if key not in self.given:
            return False if kind == "bool" else [] if kind in ("args", "linelist") else ""
        value = self.given[key]
        if kind in ("args", "linelist"):
            return [str(v).lower() if isinstance(v, bool) else str(v) for v in value]
        return value if kind == "bool" else str(value)


def test_the_table_is_well_formed():
    assert len(ALL) == len(set(ALL))
    for s in names.SETTINGS:
        assert all(ALL.index(k) < ALL.index(s.name) for k in s.needs), (s.name, "a rule needs only earlier keys")
        assert s.scope in names.WHERE and s.ini in ("string", "args", "bool", "linelist") and s.reads in (None, "number", "whole")
        assert s.rule is not None or s.choices, (s.name, "a rule, or the choices it picks from")
        assert s.doc and "\n" not in s.doc and not s.doc.endswith("."), (s.name, "one line, as a clause")
        assert not (s.semantic and s.scope == names.RUN), s.name
    assert set(SAMPLES) <= set(names.SETTING_KEYS)


@pytest.mark.parametrize("key", ALL)
def test_every_key_is_accepted_where_it_applies_with_the_tables_default(key, monkeypatch):
    setting = names.KEYS[key]
    plain, gate = resolve({}), setting.default_for(gate=True)
    assert f"f1check_{key}" in options.INI_KEYS
    assert (key, f"--f1check-{key.replace('_', '-')}") in options.FLAGS if setting.flag else \
        key not in dict(options.FLAGS)
    explicit = resolve({key: gate})  # [tool.f1check] with the default written out: the same run
    assert (explicit.settings, explicit.device, explicit.report) == (plain.settings, plain.device, plain.report)
    if setting.scope == names.RUN:
        assert key not in names.SETTING_KEYS and key not in fixtures.MARKER_KEYS
        assert key not in inspect.signature(api.check).parameters
    else:
        assert inspect.signature(api.check).parameters[key].default == setting.default
        assert getattr(names.DEFAULT, key) == setting.default
        assert captured_check(monkeypatch, **{key: setting.default}) == names.CheckSettings()
        assert key in fixtures.MARKER_KEYS
        marker = fixtures.Checker({}, 0)
        marker.marker = {key: setting.default}
        assert names.build(marker.options(), where) == names.CheckSettings()
    item = {"metric": "pkg:f1", key: gate}
    if setting.scope in (names.TARGET, names.LOOP):
        assert resolve({"targets": [item]}).targets[0].settings == plain.settings
    else:
        with pytest.raises(ConfigError, match="is a setting of the whole run, not of one target"):
            resolve({"targets": [item]})


def test_the_records_defaults_are_the_tables_validated():
    fields = {f.name: f.default for f in dataclasses.fields(names.CheckSettings) if f.name != "semantics"}
    fields |= {f.name: f.default for f in dataclasses.fields(names.Semantics)}
    assert list(fields) == [k for k in names.SETTING_KEYS if not names.KEYS[k].semantic] + list(names.SEMANTIC_KEYS)
    built = names.build({}, where)
    for key, default in fields.items():
        value = getattr(built.semantics if names.KEYS[key].semantic else built, key)
        assert value == default, key


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_a_value_reaches_the_same_settings_from_every_place(key, monkeypatch):
    values = SAMPLES[key]
    expected = names.build(values, where)
    assert expected != names.build({}, where), "the sample is not the default"
    assert captured_check(monkeypatch, **values) == expected
    marker = fixtures.Checker({}, 0)
    marker.marker = dict(values)
    assert names.build(marker.options(), where) == expected
    top = resolve(values).settings
    assert dataclasses.replace(top, modes=expected.modes) == expected  # the gate's default modes are not check()'s
    assert resolve({}, options.ini_values(FakeIni(values))).settings == top
    if all(names.KEYS[k].scope != names.CHECK for k in values):
        target = resolve({"targets": [{"metric": "pkg:f1", **values}]}).targets[0].settings
        assert target == top


def test_no_key_is_accepted_anywhere_that_the_table_does_not_declare():
    table, one_check = set(ALL), set(names.SETTING_KEYS)
    assert set(inspect.signature(api.check).parameters) - NOT_SETTINGS == one_check
    assert set(names.DEFAULT._fields) == one_check
    assert set(fixtures.MARKER_KEYS) == one_check
    assert set(f1config.TOP_KEYS) == table
    assert set(f1config.TARGET_KEYS) - TARGET_OWN == {s.name for s in names.SETTINGS if s.scope in (names.TARGET, names.LOOP)}
    assert set(f1config.RUN_WIDE) == {s.name for s in names.SETTINGS if s.scope in (names.RUN, names.CHECK)}
    assert set(options.INI_KEYS) == {f"f1check_{k}" for k in table}
    assert {k for k, _ in options.FLAGS} == {s.name for s in names.SETTINGS if s.flag}
    records = {f.name for f in dataclasses.fields(names.CheckSettings)} - {"semantics"}
    assert records | {f.name for f in dataclasses.fields(names.Semantics)} == one_check
    with pytest.raises(ConfigError, match="unknown setting 'tolerence'.*Did you mean 'tolerance'"):
        names.build({"tolerence": 0.1}, where)
    with pytest.raises(ConfigError, match="unknown key 'tolerence' in"):
        resolve({"tolerence": 0.1})
    with pytest.raises(ConfigError, match="unknown key 'tolerence' in targets"):
        resolve({"targets": [{"metric": "pkg:f1", "tolerence": 0.1}]})
    with pytest.raises(TypeError, match="tolerence"):
        api.check("pkg:f1", tolerence=0.1)


@pytest.mark.parametrize("setting", [s for s in names.SETTINGS if s.flag], ids=lambda s: s.name)
def test_a_flag_reads_its_text_as_the_ini_option_does(setting):
    sample = SAMPLES.get(setting.name, {}).get(setting.name, setting.default_for(gate=True))
    if sample is None:
        sample = "f1check.json"  # report: a path
    convert = options._flag_type(setting)
    assert (convert(str(sample)) if convert else str(sample)) == sample
