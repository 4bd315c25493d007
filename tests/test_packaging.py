"""The installable package: the wheel `python -m build` makes has the right metadata, entry points and extras.

Built offline (no build isolation: build and setuptools come with the test extra) and unpacked into a
folder of its own, where importlib.metadata reads it as an installer would.
"""

import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import f1check

ROOT = Path(__file__).parent.parent


def test_the_wheel_declares_the_plugin_the_profiles_and_the_extras(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(tmp_path.glob("f1check-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
        names = archive.namelist()
    for stage in ("core", "subjects", "loops", "loops/drivers", "judging", "search", "reporting", "plugin", "strategies"):
        assert f"f1check/{stage}/__init__.py" in names, stage  # every subpackage, however deep
    assert "f1check/loops/drivers/harness.py" in names and "f1check/strategies/data.py" in names
    assert not any(n.startswith(("tests/", "fixtures/", "benchmarks/")) for n in names)
    dist = next(d for d in metadata.distributions(path=[str(site)]) if d.metadata["Name"] == "f1check")
    assert dist.version == f1check.__version__
    entry_points = {(e.group, e.name): e.value for e in dist.entry_points}
    assert entry_points[("pytest11", "f1check")] == "f1check.plugin"
    assert entry_points[("hypothesis", "f1check")] == "f1check.strategies:register_profiles"
    requires = dist.requires
    for needed in ("keras<4,>=3.7", "scikit-learn>=1.3", "hypothesis>=6.100", "pytest>=7.4", "numpy>=1.24"):
        assert needed in requires
    extras = set(dist.metadata.get_all("Provides-Extra"))
    assert extras == {"tensorflow", "tensorflow-cpu", "jax", "plots", "test"}
    assert 'tensorflow-cpu>=2.16; extra == "tensorflow-cpu"' in requires
