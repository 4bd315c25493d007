"""Plain pytest with f1check installed must not import a deep-learning framework."""

import subprocess
import sys

HEAVY = ("tensorflow", "keras", "jax", "torch", "sklearn", "numpy")


def test_importing_the_plugin_and_package_imports_no_framework():
    code = (
        "import sys, f1check, f1check.plugin; f1check.Partition([1, 2]); f1check.F1CheckError; "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_unknown_attribute_is_an_attribute_error():
    import f1check

    try:
        f1check.no_such_name
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
