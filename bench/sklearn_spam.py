"""scikit-learn's side of `npm run bench:ml`: the same corpus, split and settings, timed the same way.

Reads {"train": [...], "train_labels": [...], "test": [...], "C": ..., "max_iter": ..., "min_df": ...,
"repeats": n, "single": n} on stdin; prints JSON timings (medians in seconds) and test predictions.
"""
import json
import statistics
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

r = json.load(sys.stdin)


def timed(fn, repeats):
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def make_vectorizer():
    return TfidfVectorizer(sublinear_tf=True, min_df=r["min_df"])


vectorize_s, (vectorizer, X_train) = timed(
    lambda: (lambda v: (v, v.fit_transform(r["train"])))(make_vectorizer()), r["repeats"]
)
train_s, model = timed(
    lambda: LogisticRegression(C=r["C"], max_iter=r["max_iter"]).fit(X_train, r["train_labels"]), r["repeats"]
)
batch_s, proba = timed(lambda: model.predict_proba(vectorizer.transform(r["test"])), r["repeats"])
single = r["test"][: r["single"]]
single_s, _ = timed(lambda: [model.predict_proba(vectorizer.transform([t])) for t in single], 1)
json.dump(
    {
        "version": __import__("sklearn").__version__,
        "vectorize_s": vectorize_s,
        "train_s": train_s,
        "n_iter": int(model.n_iter_[0]),
        "batch_s": batch_s,
        "single_s": single_s,
        "predicted": model.classes_[proba.argmax(axis=1)].tolist(),
    },
    sys.stdout,
)
