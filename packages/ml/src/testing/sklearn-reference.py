"""Reference values from scikit-learn for Slipway's parity tests (run by sklearn-parity.test.ts).

Reads a JSON request on stdin: {"train": [texts], "train_labels": [...], "test": [texts],
"vectorizer": {TfidfVectorizer kwargs}, "model": {LogisticRegression kwargs}}; writes JSON on stdout:
the vocabulary, idf, the test matrix in CSR form, the coefficients, intercepts and test probabilities.
"""
import json
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

request = json.load(sys.stdin)
vectorizer = TfidfVectorizer(**request["vectorizer"])
X_train = vectorizer.fit_transform(request["train"])
X_test = vectorizer.transform(request["test"])
X_test.sort_indices()
model = LogisticRegression(**request["model"]).fit(X_train, request["train_labels"])
json.dump(
    {
        "sklearn_version": __import__("sklearn").__version__,
        "vocabulary": vectorizer.get_feature_names_out().tolist(),
        "idf": vectorizer.idf_.tolist(),
        "test_matrix": {
            "indptr": X_test.indptr.tolist(),
            "indices": X_test.indices.tolist(),
            "data": X_test.data.tolist(),
        },
        "classes": model.classes_.tolist(),
        "coef": model.coef_.ravel().tolist(),
        "intercept": model.intercept_.tolist(),
        "n_iter": int(model.n_iter_[0]),
        "test_probabilities": model.predict_proba(X_test).ravel().tolist(),
    },
    sys.stdout,
)
