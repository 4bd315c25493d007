"""Keras, imported late: backend, device and determinism.

Nothing imports Keras (or TensorFlow, JAX, torch) until a check runs, so that
plain ``pytest`` in a model repo with f1check installed stays as fast as
without it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@lru_cache(maxsize=None)
def keras():
    """Import Keras once, with TensorFlow's C++ start-up chatter turned down."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras as keras_module

    return keras_module


def seed_everything(seed: int) -> None:
    """Seed numpy, Python and the Keras backend from one number."""
    keras().utils.set_random_seed(int(seed) % (2**32))


@dataclass(frozen=True)
class Environment:
    f1check: str
    keras: str
    backend: str
    device: str
    seed: int

    def header(self) -> str:
        return (
            f"f1check {self.f1check}: keras {self.keras}, backend {self.backend}, "
            f"device {self.device}, --f1check-seed={self.seed}"
        )

    def to_json(self) -> dict:
        return {
            "f1check": self.f1check,
            "keras": self.keras,
            "backend": self.backend,
            "device": self.device,
            "seed": self.seed,
        }


def environment(seed: int) -> Environment:
    from . import __version__

    k = keras()
    return Environment(
        f1check=__version__,
        keras=k.__version__,
        backend=k.backend.backend(),
        device=device_name(),
        seed=int(seed),
    )


def device_name() -> str:
    """``GPU`` if the backend sees an accelerator, else ``CPU``."""
    backend = keras().backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return "GPU" if tf.config.list_logical_devices("GPU") else "CPU"
        if backend == "jax":
            import jax

            return "GPU" if jax.default_backend() == "gpu" else "CPU"
        if backend == "torch":
            import torch

            return "GPU" if torch.cuda.is_available() else "CPU"
    except Exception:  # a broken accelerator stack means we run on the CPU
        return "CPU"
    return "CPU"
