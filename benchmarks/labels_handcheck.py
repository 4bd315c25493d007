"""Hand check of the label-form subjects in fixtures/labels.py with plain Keras 3 and sklearn (no f1check).

For each subject, each label form its task allows (binary: column (n,1), flat (n,); multiclass: one-hot (n,4),
sparse (n,), sparse-column (n,1)) and each label dtype (float32, int64), a tiny model that outputs fixed scores
(Input -> Identity, fed the scores as x) is compiled with the subject and evaluated on 97 samples in batches of 16.
The logged F1 is compared with sklearn's f1_score on the same scores (binary: score > 0.5; multiclass: first argmax,
average="macro", labels=range(4), zero_division=0).

    python benchmarks/labels_handcheck.py        # prints the table (saved in benchmarks/labels_handcheck.txt)
"""

import inspect
import os
import sys

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
from sklearn.metrics import f1_score

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fixtures import labels

N, BATCH, C, SEED, TOL = 97, 16, labels.NUM_CLASSES, 0, 1e-3


def binary_data():
    rng = np.random.default_rng(SEED)
    y = (rng.random(N) < 0.4).astype(np.int64)
    scores = rng.random(N).astype(np.float32)
    scores[::10] = 0.5  # exactly on the threshold: not a positive prediction
    return y, scores, f1_score(y, (scores > 0.5).astype(int))


def multiclass_data():
    rng = np.random.default_rng(SEED + 1)
    y = rng.integers(0, C, N).astype(np.int64)
    logits = rng.normal(size=(N, C)) + 1.5 * np.eye(C)[y]
    scores = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    return y, scores, f1_score(y, scores.argmax(axis=1), average="macro", labels=list(range(C)), zero_division=0)


BINARY_FORMS = {"column": lambda y: y.reshape(-1, 1), "flat": lambda y: y.reshape(-1)}
MULTICLASS_FORMS = {
    "one-hot": lambda y: np.eye(C, dtype=np.int64)[y],
    "sparse": lambda y: y.reshape(-1),
    "sparse-column": lambda y: y.reshape(-1, 1),
}


def make_metric(subject):
    """A class is instantiated, a factory (no parameters) called, a metric function (y_true, y_pred) used as is."""
    if inspect.isclass(subject):
        return subject()
    if not inspect.signature(subject).parameters:
        return subject()
    return subject


def first_line(error):
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if lines and lines[0].startswith("Graph execution error"):  # TF puts the op's message last
        lines = lines[-1:] if not lines[-1].startswith("[[") else lines[-2:-1]
    text = f"{type(error).__name__}: {lines[0] if lines else ''}"
    return text[:110]


def evaluate(subject, x, y, loss):
    keras.backend.clear_session()
    inputs = keras.Input(shape=x.shape[1:])
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    model.compile(loss=loss, metrics=[make_metric(subject)])
    logs = model.evaluate(x, y, batch_size=BATCH, return_dict=True, verbose=0)
    name = next(k for k in logs if k != "loss")
    return float(logs[name])


def main():
    rows = []
    y, scores, expected = binary_data()
    for subject_name, subject in labels.BINARY_SUBJECTS.items():
        for form, shape in BINARY_FORMS.items():
            for dtype in ("float32", "int64"):
                rows.append((subject_name, form, dtype, subject, scores.reshape(-1, 1), shape(y).astype(dtype),
                             "binary_crossentropy", expected))
    y, scores, expected = multiclass_data()
    for subject_name, subject in labels.MULTICLASS_SUBJECTS.items():
        for form, shape in MULTICLASS_FORMS.items():
            loss = "categorical_crossentropy" if form == "one-hot" else "sparse_categorical_crossentropy"
            for dtype in ("float32", "int64"):
                rows.append((subject_name, form, dtype, subject, scores, shape(y).astype(dtype), loss, expected))

    header = f"{'subject':<16} {'form':<14} {'dtype':<8} {'logged':>9} {'sklearn':>9}  verdict"
    print(f"Keras {keras.__version__} ({keras.backend.backend()}), {N} samples, batch_size={BATCH}")
    print(header)
    print("-" * len(header))
    for subject_name, form, dtype, subject, x, yy, loss, want in rows:
        try:
            got = evaluate(subject, x, yy, loss)
        except Exception as error:  # noqa: BLE001 - a refusal is a result here
            logged, verdict = "-", "refused: " + first_line(error)
        else:
            logged, verdict = f"{got:.6f}", "pass" if abs(got - want) <= TOL else "fail"
        print(f"{subject_name:<16} {form:<14} {dtype:<8} {logged:>9} {want:>9.6f}  {verdict}", flush=True)


if __name__ == "__main__":
    main()
