"""Hand check of the checkpoint subjects in fixtures/reloaded.py with plain Keras 3 and sklearn (no f1check).

For each subject, a tiny model that outputs fixed scores (Input -> an identity Dense layer at learning rate 0, fed the scores as x) is compiled with
the metric, trained one epoch (learning rate 0: its predictions stay the scores), evaluated ("before"), saved with
``model.save`` to a .keras file, loaded with ``keras.models.load_model(path, custom_objects=...)`` and evaluated
again ("after"), on 200 samples in batches of 32.  sklearn's value on the same scores is the reference (binary:
score > 0.3 for the subjects built at 0.3, else > 0.5, zero_division as built; multiclass: first argmax over 4
classes, the average as built).  "same": the loaded model logs sklearn's value; "other": another number.

    python benchmarks/reloaded_handcheck.py        # prints the table (saved in benchmarks/reloaded_handcheck.txt)
"""

import os
import sys
import tempfile
import warnings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
from sklearn.metrics import f1_score

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fixtures import reloaded

N, BATCH, C, SEED, TOL = 200, 32, reloaded.NUM_CLASSES, 0, 1e-3


def binary(no_positive=False):
    rng = np.random.default_rng(SEED)
    y = (rng.random(N) < 0.4).astype(np.float32)
    scores = rng.random(N).astype(np.float32)
    if no_positive:  # nothing positive, nothing predicted: F1 is zero_division
        y[:], scores[:] = 0.0, scores * 0.2
    return y.reshape(-1, 1), scores.reshape(-1, 1)


def multiclass():
    rng = np.random.default_rng(SEED + 1)
    y = rng.integers(0, C, N)
    logits = rng.normal(size=(N, C)) + 1.5 * np.eye(C)[y]
    scores = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    return np.eye(C, dtype=np.float32)[y], scores


def sk_binary(threshold, zero_division=0.0):
    return lambda y, s: f1_score(y[:, 0], (s[:, 0] > threshold).astype(int), zero_division=zero_division)


def sk_multiclass(average):
    return lambda y, s: f1_score(y.argmax(1), s.argmax(1), average=average, labels=list(range(C)), zero_division=0)


CASES = [  # (subject, data, sklearn, custom_objects)
    ("f1_at_03", binary(), sk_binary(0.3), {"StreamingF1": reloaded.StreamingF1}),
    ("f1_at_03_instance", binary(), sk_binary(0.3), {"StreamingF1": reloaded.StreamingF1}),
    ("saved_f1_at_03", binary(), sk_binary(0.3), {"SavedF1": reloaded.SavedF1}),
    ("keras_f1_at_03", binary(), sk_binary(0.3), {}),
    ("empty_is_perfect", binary(no_positive=True), sk_binary(0.5, 1.0), {"EmptyIsPerfectF1": reloaded.EmptyIsPerfectF1}),
    ("macro_f1_4", multiclass(), sk_multiclass("macro"), {"ConfusionF1": reloaded.ConfusionF1}),
    ("saved_macro_f1_4", multiclass(), sk_multiclass("macro"), {"SavedConfusionF1": reloaded.SavedConfusionF1}),
    ("micro_f1_4", multiclass(), sk_multiclass("micro"), {"ClassesOnlyF1": reloaded.ClassesOnlyF1}),
    ("keras_macro_f1_4", multiclass(), sk_multiclass("macro"), {}),
    ("needs_classes_4", multiclass(), sk_multiclass("macro"), {"NeedsClasses": reloaded.NeedsClasses}),
]


def round_trip(name, data, reference, objects):
    subject = getattr(reloaded, name)
    metric = subject if isinstance(subject, keras.metrics.Metric) else subject()
    y, scores = data
    inputs = keras.Input((y.shape[1],))
    outputs = keras.layers.Dense(y.shape[1], kernel_initializer="identity", use_bias=False)(inputs)  # scores as given
    model = keras.Model(inputs, outputs)
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(0.0), metrics=[metric])
    model.fit(scores, y, batch_size=BATCH, epochs=1, verbose=0)
    before = model.evaluate(scores, y, batch_size=BATCH, verbose=0, return_dict=True)["f1"]
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = os.path.join(folder, "model.keras")
        model.save(path)
        try:
            loaded = keras.models.load_model(path, custom_objects=objects)
            logs = loaded.evaluate(scores, y, batch_size=BATCH, verbose=0, return_dict=True)
            after = logs.get("f1", logs.get("compile_metrics", float("nan")))
            raised = ""
        except Exception as exc:  # noqa: BLE001 - a hand check reports what Keras raised
            after, raised = float("nan"), f"{type(exc).__name__}: {str(exc).splitlines()[0][:90]}"
    expected = reference(y, scores)
    before, after = float(np.mean(before)), float(np.mean(after))
    verdict = "raised" if raised else ("same" if abs(after - expected) <= TOL else "other")
    warned = "; ".join(str(w.message).splitlines()[0][:60] for w in caught if "load" in str(w.message).lower())[:80]
    return name, before, after, expected, verdict, raised or warned


def main():
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, n={N}, batch {BATCH}")
    print(f"{'subject':<20}{'before':>10}{'after':>10}{'sklearn':>10}  verdict  note")
    for case in CASES:
        name, before, after, expected, verdict, note = round_trip(*case)
        print(f"{name:<20}{before:>10.6f}{after:>10.6f}{expected:>10.6f}  {verdict:<7}  {note}")


if __name__ == "__main__":
    main()
