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

    if keras_module.backend.backend() == "tensorflow":
        import logging

        logging.getLogger("tensorflow").addFilter(_RetracingNoise())
    return keras_module


class _RetracingNoise:
    """Drops TensorFlow's retracing warning: f1check builds models per example on purpose."""

    def filter(self, record) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


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


def gpu_available() -> bool:
    """Whether the Keras backend can see a GPU (imports the backend)."""
    return device_name() == "GPU"


def select_device(requested: str) -> str:
    """Apply ``--f1check-device``: ``"CPU"`` or ``"GPU"``; a GPU asked for and missing is an error.

    ``cpu`` hides the accelerators from the backend, so it must run before
    the backend first touches a device.
    """
    from .errors import ConfigError

    if requested == "cpu":
        _hide_accelerators()
        return "CPU"
    found = device_name()
    if requested == "gpu" and found != "GPU":
        raise ConfigError(
            f"--f1check-device gpu, but the {keras().backend.backend()} backend sees no GPU: run on a machine "
            "with one (and a GPU build of the backend), or use --f1check-device auto or cpu."
        )
    return found


def _hide_accelerators() -> None:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    backend = keras().backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError:  # already initialised: placement then follows CUDA_VISIBLE_DEVICES/defaults
            pass


def to_numpy(value):
    """A tensor or Keras variable as a numpy array (``Variable.numpy()`` avoids a numpy 2 warning)."""
    import numpy as np

    k = keras()
    if isinstance(value, k.Variable):
        return np.asarray(value.numpy())
    return np.asarray(k.ops.convert_to_numpy(value))
