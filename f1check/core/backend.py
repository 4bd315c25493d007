"""Keras, imported late: backend, device and determinism.

Nothing imports Keras (or TensorFlow, JAX, torch) until a check runs, so that
plain ``pytest`` in a model repo with f1check installed stays as fast as
without it.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache

from .._version import __version__
from . import versions
from .errors import ConfigError

# What Keras and TensorFlow say during f1check's own calls that is not the user's to fix. Filtered around
# those calls only (never globally), so the user's own warnings still show.
FRAMEWORK_NOISE = (
    (DeprecationWarning, r"__array__ implementation doesn't accept a copy keyword"),  # numpy 2 on TF variables
    (UserWarning, r"Your input ran out of data"),  # feeds without steps: where the phantom step is
    (UserWarning, r"The model does not have any trainable weights"),  # the fixed-prediction model of a callback
    (UserWarning, r"`Model\.(fit|evaluate)_generator` is deprecated"),  # tf-keras endpoints f1check calls on purpose
    # Keras 3.8 on numpy >= 1.25: model.predict over one sample (f1check's one-sample examples, in a predict
    # callback) has Keras's pythonify_logs call float() on the (1, 1) outputs; only TensorFlow's __float__, not the
    # user's own float() calls, which are attributed to their modules
    (DeprecationWarning, r"Conversion of an array with ndim > 0 to a scalar", r"tensorflow\.python\.framework\.ops"),
)


@lru_cache(maxsize=None)
def keras():
    """Import Keras once, with TensorFlow's C++ start-up chatter turned down (after checking the versions)."""
    versions.check_range(legacy=False)
    with _quiet_start():
        import keras as keras_module

    if keras_module.backend.backend() == "tensorflow":
        _drop_retracing_noise()
    return keras_module


@lru_cache(maxsize=None)
def _drop_retracing_noise() -> None:
    import logging

    logging.getLogger("tensorflow").addFilter(_RetracingNoise())


class _RetracingNoise:
    """Drops TensorFlow's retracing warning: f1check builds models per example on purpose."""

    def filter(self, record) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def quiet():
    """Filter :data:`FRAMEWORK_NOISE` for the duration of one of f1check's own calls."""
    with warnings.catch_warnings():
        for category, message, *module in FRAMEWORK_NOISE:
            warnings.filterwarnings("ignore", message=message, category=category, module=module[0] if module else "")
        yield


def seed_everything(seed: int) -> None:
    """Seed numpy, Python and the Keras backend from one number."""
    framework().utils.set_random_seed(int(seed) % (2**32))


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


def environment(seed: int, device: str | None = None) -> Environment:
    """The line that lets a run be repeated: versions, backend, device and seed."""
    return Environment(
        f1check=__version__,
        keras=keras_version(),
        backend=backend_name(),
        device=device or device_name(),
        seed=int(seed),
    )


@lru_cache(maxsize=None)
def tensorflow():
    """Import TensorFlow once, quietly (it may start before Keras does: tf-keras, devices, replicas)."""
    with _quiet_start():
        import tensorflow as tf_module

    return tf_module


def backend_name() -> str:
    """The Keras backend the loops run on (``tensorflow`` under tf-keras, without importing Keras 3)."""
    return "tensorflow" if legacy() else keras().backend.backend()


def device_name() -> str:
    """``GPU`` if the backend sees an accelerator, else ``CPU``."""
    backend = backend_name()
    try:
        if backend == "tensorflow":
            tf = tensorflow()
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
    if requested == "cpu":
        _hide_accelerators()
        return "CPU"
    found = device_name()
    if requested == "gpu" and found != "GPU":
        raise ConfigError(
            f"--f1check-device gpu, but the {backend_name()} backend sees no GPU: run on a machine "
            "with one (and a GPU build of the backend), or use --f1check-device auto or cpu."
        )
    return found


# TensorFlow's C++ start-up lines: written to file descriptor 2 while it loads, before its logging is set up,
# so TF_CPP_MIN_LOG_LEVEL does not reach the absl ones (TensorFlow 2.21). Not the user's to fix.
_START_UP_NOISE = re.compile(
    r"absl::InitializeLog\(\) is called|oneDNN custom operations are on|cpu_feature_guard\.cc|"
    r"^To enable the following instructions: .*rebuild TensorFlow"
)


# What TensorFlow's C++ runtime logs when a step raises inside a graph (a subject refusing a label form): the error
# itself reaches f1check as an exception; the log line repeats it on file descriptor 2.
ABORTED_STEP = re.compile(r"local_rendezvous\.cc:\d+\] Local rendezvous is aborting")


@contextlib.contextmanager
def _quiet_start():
    """Import the framework with its C++ start-up chatter held back; anything else it writes still shows."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with held_back(_START_UP_NOISE):
        yield


@contextlib.contextmanager
def held_back(noise: re.Pattern):
    """File descriptor 2 with the lines ``noise`` matches held back (C++ code writes there, past ``sys.stderr``)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no file descriptor 2 to hold: import as it comes
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines = sink.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not noise.search(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def _hide_accelerators() -> None:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    backend = backend_name()
    if backend == "tensorflow":
        tf = tensorflow()
        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError:  # already initialised: placement then follows CUDA_VISIBLE_DEVICES/defaults
            pass


def to_numpy(value):
    """A tensor or variable (Keras 3's, or TensorFlow's) as a numpy array.

    ``.numpy()`` where the value has one: ``np.array`` of a TensorFlow
    variable goes through an ``__array__`` without the ``copy`` keyword, which
    numpy 2 deprecates with a warning (once per call, thousands per run).
    """
    import numpy as np

    if not isinstance(value, np.ndarray) and type(value).__module__.startswith("keras.") and hasattr(value, "value"):
        value = value.value  # a Keras variable: its backend's variable or array
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


# -- legacy Keras 2 (tf-keras) ----------------------------------------------------------------------------------


LEGACY_ENV = "TF_USE_LEGACY_KERAS"


def legacy() -> bool:
    """Whether f1check drives tf-keras (Keras 2): ``TF_USE_LEGACY_KERAS`` is 1/true and tf_keras imports.

    That is when ``tf.keras`` (``tensorflow.keras``) is tf-keras, so a model
    repository written against it builds its metrics and callbacks from
    tf-keras classes, and f1check must run them in tf-keras loops.
    """
    if os.environ.get(LEGACY_ENV, "").strip().lower() not in ("1", "true"):
        return False
    return _tf_keras_installed()


@lru_cache(maxsize=None)
def _tf_keras_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("tf_keras") is not None


@lru_cache(maxsize=None)
def legacy_keras():
    """The tf-keras module (what ``tf.keras`` is under ``TF_USE_LEGACY_KERAS=1``), imported once."""
    versions.check_range(legacy=True)
    with _quiet_start():
        import tf_keras

    _drop_retracing_noise()

    return tf_keras


def framework():
    """The Keras whose classes subjects use and whose loops the drivers run: tf-keras when :func:`legacy`."""
    return legacy_keras() if legacy() else keras()


def values(variables) -> list:
    """Variables (Keras 3's or tf-keras's) as numpy arrays."""
    return [to_numpy(v) for v in variables]


def keras_version() -> str:
    """The version the report header names: ``tf-keras 2.x`` when :func:`legacy`, else Keras's own."""
    if legacy():
        return f"tf-keras {legacy_keras().__version__}"
    return keras().__version__


def share_cores(processes: int) -> None:
    """Give TensorFlow ``cpu_count // processes`` threads, so that ``processes`` processes do not oversubscribe.

    Must run before TensorFlow starts; the plugin calls it in pytest-xdist workers (each would otherwise
    spread every op over all the machine's cores while the other workers do the same).
    """
    if backend_name() != "tensorflow":
        return
    tf = tensorflow()
    threads = max(1, (os.cpu_count() or 1) // max(1, processes))
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow has started: its thread pools are fixed now
        pass


def prepare_replicas(replicas: int) -> bool:
    """Split the CPU into ``replicas`` logical devices, if TensorFlow has not started yet.

    Returns whether TensorFlow now has that many devices to mirror over (GPUs
    count first).  Must run before anything touches a TensorFlow device: the
    plugin calls it at session start when a target asks for replicas.
    """
    tf = tensorflow()

    if len(tf.config.list_physical_devices("GPU")) >= replicas:
        return True
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu) or []
    if len(current) >= replicas:
        return True
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    except RuntimeError:  # already initialised with fewer devices
        return False
    return True


@lru_cache(maxsize=None)
def replica_strategy(replicas: int):
    """A ``tf.distribute.MirroredStrategy`` over ``replicas`` GPUs, or logical CPUs when there are too few GPUs."""
    name = keras().backend.backend()
    if name != "tensorflow":
        raise ConfigError(
            f"replicas={replicas} needs the TensorFlow backend (tf.distribute.MirroredStrategy), but Keras runs on "
            f"{name}: set KERAS_BACKEND=tensorflow, or replicas=1."
        )
    import tensorflow as tf

    prepare_replicas(replicas)
    gpus = tf.config.list_logical_devices("GPU")
    devices = gpus if len(gpus) >= replicas else tf.config.list_logical_devices("CPU")
    if len(devices) < replicas:
        raise ConfigError(
            f"replicas={replicas}, but TensorFlow had already started with {len(devices)} CPU device(s) and "
            f"{len(gpus)} GPU(s), and a started TensorFlow cannot be split into more: ask for replicas before anything "
            f"runs on TensorFlow (pytest --f1check does; in Python call f1check.prepare_replicas({replicas}) "
            "first), or use replicas=1."
        )
    return tf.distribute.MirroredStrategy([d.name for d in devices[:replicas]])


def replica_scope(replicas: int):
    """``strategy.scope()`` for ``replicas > 1``; a do-nothing context otherwise."""
    if replicas <= 1:
        return contextlib.nullcontext()
    return replica_strategy(replicas).scope()


# -- Keras's global configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KerasGlobals:
    """Keras's process-wide settings a model repository's module may change when imported (``set_epsilon`` ...)."""

    epsilon: float
    floatx: str
    policy: str


def keras_globals() -> KerasGlobals:
    """The global settings now."""
    keras_module = framework()
    if legacy():
        policy = keras_module.mixed_precision.global_policy().name
    else:
        policy = keras_module.config.dtype_policy().name
    return KerasGlobals(keras_module.backend.epsilon(), keras_module.backend.floatx(), policy)


def restore_keras_globals(saved: KerasGlobals) -> None:
    """Put the global settings back to ``saved``: every check starts from the same Keras, whatever ran before."""
    keras_module = framework()
    keras_module.backend.set_epsilon(saved.epsilon)
    keras_module.backend.set_floatx(saved.floatx)
    if legacy():
        keras_module.mixed_precision.set_global_policy(saved.policy)
    else:
        keras_module.config.set_dtype_policy(saved.policy)


def jit_compile(wanted: bool):
    """``compile(jit_compile=...)`` for a loop drawn with ``wanted``: XLA, or not. On JAX, Keras's own "auto"
    (every step under ``jax.jit``, as a JAX repository runs) stands for "no XLA" where ``wanted`` is False."""
    if not wanted and backend_name() == "jax":
        return "auto"
    return wanted
