"""F1 metrics and callbacks of a (made-up) model repository, the subjects of benchmarks/gate.py."""
