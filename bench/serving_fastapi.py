"""FastAPI + scikit-learn baseline of `npm run bench:serving`: the same spam model (TF-IDF + logistic
regression with the bench's settings, trained on the same texts at start-up), one uvicorn worker.

    python3 serving_fastapi.py TRAIN.json PORT      # TRAIN.json: {"texts": [...], "labels": [...], "C": .., "min_df": ..}
POST /predict {"texts": [...]} → {"predictions": [...]}
"""
import json
import sys

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

with open(sys.argv[1]) as f:
    train = json.load(f)
model = make_pipeline(
    TfidfVectorizer(sublinear_tf=True, min_df=train["min_df"]),
    LogisticRegression(C=train["C"], max_iter=train["max_iter"]),
).fit(train["texts"], train["labels"])

app = FastAPI()


class Request(BaseModel):
    texts: list[str]


@app.post("/predict")
def predict(request: Request):
    return {"predictions": model.predict(request.texts).tolist()}


@app.get("/ping")
def ping():
    return "ok"


print("ready", flush=True)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), workers=1, log_level="warning")
