"""Small trainable models for the fit drivers and the ``f1check_model`` fixture."""

from __future__ import annotations

from ..core import backend
from ..core.settings import Semantics


def small_model(features: int, semantics: Semantics, *, hidden: int = 0, metrics=(), learning_rate: float = 0.05,
                seed: int = 0, compile_model: bool = True):
    """Logistic regression (``hidden=0``) or a one-hidden-layer MLP; sigmoid or softmax output.

    Seeded initialisers make the same seed give the same model.  Placed where
    the backend places it: on the GPU when there is one and
    ``--f1check-device`` allows it.
    """
    keras = backend.keras()
    columns = 1 if semantics.task == "binary" else semantics.classes
    init = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input(shape=(features,), name="features")
    h = inputs
    if hidden:
        h = keras.layers.Dense(hidden, activation="relu", kernel_initializer=init, name="hidden")(h)
    activation = "softmax" if semantics.task == "multiclass" else "sigmoid"
    outputs = keras.layers.Dense(columns, activation=activation, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1), name="scores")(h)
    model = keras.Model(inputs, outputs, name="f1check_small_model")
    if compile_model:
        loss = "categorical_crossentropy" if semantics.task == "multiclass" else "binary_crossentropy"
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss=loss, metrics=list(metrics))
    return model
