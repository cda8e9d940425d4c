"""Two tasks from two corpora of different sizes, and how often each is drawn
==========================================================================

GoEmotions' sentiment (3,000 Reddit comments) and EmoBank's valence (300 sentences)
share no text: a row carries one task's label, the other is missing. ``task_sampling``
decides how often each task's rows are drawn per epoch; ``history_[:, "task_draws"]``
shows it, and ``GridSearchCV`` can search it like any parameter.
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

from skmtl import MultiTaskEstimator
from skmtl.datasets import load_emobank, load_goemotions
from skmtl.metrics import task_score
from skmtl.sampling import AnnealedSampling, TemperatureSampling

ge, eb = load_goemotions(split="train"), load_emobank(split="train")
texts = list(ge.text) + list(eb.text[:300])
Y = pd.DataFrame(
    {
        "sentiment": list(ge.targets["sentiment"]) + [None] * 300,
        "valence": [np.nan] * len(ge.text) + list(eb.targets["V"][:300]),
    }
)
warnings.simplefilter("ignore", ConvergenceWarning)  # a short demo budget, on purpose
rng = np.random.RandomState(0)
test = rng.rand(len(texts)) < 0.25
X = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(np.array(texts)[~test]).transform(texts)

for name, sampling in [
    ("natural order", None),
    ("temperature T=2", TemperatureSampling(temperature=2.0)),
    ("annealed", AnnealedSampling()),
]:
    model = MultiTaskEstimator(
        hidden_layer_sizes=(64,),
        learning_rate=3e-3,
        max_epochs=8,
        min_labels=1,
        task_sampling=sampling,
        random_state=0,
    ).fit(X[~test], Y[~test])
    pred = model.predict(X[test])
    truth = Y[test].reset_index(drop=True)
    f1 = task_score(truth["sentiment"], pred["sentiment"], "f1_macro")
    r = task_score(truth["valence"], pred["valence"], "pearson")
    draws = model.history_[-1].get("task_draws", "every row once")
    print(f"{name:16s} sentiment f1_macro {f1:.3f}  valence pearson {r:.3f}  draws {draws}")
