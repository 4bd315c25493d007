"""The project's own test configuration (not the plugin's: that is f1check/plugin.py).

Sitting at the root, this file puts the repository on ``sys.path`` so tests
can import the subjects in ``fixtures/`` by ``"module:attr"`` as a model
repository's targets would be imported.
"""

import os

# TensorFlow's C++ start-up logging is noise in test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collection_modifyitems(items):
    """Start the long tests (marked ``long``) first, so that pytest-xdist workers do not end on one of them."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
