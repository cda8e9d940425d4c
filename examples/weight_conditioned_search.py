"""One fit, every task weighting: weight-conditioned training, search and front
============================================================================

A model trained with ``weighting=WeightConditioned()`` serves any
``task_weights`` after one fit. ``TaskWeightSearchCV`` then searches task
weights with one fit per fold (``GridSearchCV`` would fit every candidate on
every fold), and ``pareto_front`` traces the per-task trade-off of a fitted
model. Data: the GoEmotions sample shipped with skmtl (three multilabel tasks).
"""

import os
import tempfile
import time

import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from skmtl import MultiTaskClassifier
from skmtl.datasets import load_goemotions
from skmtl.metrics import multitask_scorers
from skmtl.model_selection import TaskWeightSearchCV, pareto_front, weight_grid
from skmtl.weighting import WeightConditioned

train, test = load_goemotions(split="train"), load_goemotions(split="test")
tasks = ["emotion", "ekman", "sentiment"]


def pipeline(**params):
    model = MultiTaskClassifier(
        hidden_layer_sizes=(128, 64),
        learning_rate=1e-2,
        max_epochs=8,
        threshold=0.3,
        random_state=0,
        **params,
    )
    return Pipeline([("tfidf", TfidfVectorizer(sublinear_tf=True, min_df=2)), ("mtl", model)])


# Candidates: 10 weightings of the three tasks, each task at least 1/6.
candidates = [w for w in weight_grid(tasks, 7) if min(w.values()) > 0]
scoring = multitask_scorers(dict.fromkeys(tasks, "f1_macro"))
cv = KFold(3, shuffle=True, random_state=0)
grid = {"mtl__task_weights": candidates}

tic = time.perf_counter()
search = TaskWeightSearchCV(
    pipeline(weighting=WeightConditioned(random_state=0)),
    grid,
    scoring=scoring,
    refit="mean",
    cv=cv,
).fit(train.text, train.targets)
conditioned_s = time.perf_counter() - tic

tic = time.perf_counter()
static = GridSearchCV(pipeline(), grid, scoring=scoring, refit="mean", cv=cv)
static.fit(train.text, train.targets)
static_s = time.perf_counter() - tic

table = pd.DataFrame([{t: round(w[t], 2) for t in tasks} for w in candidates])
table["conditioned mean F1"] = search.cv_results_["mean_test_mean"]
table["static mean F1"] = static.cv_results_["mean_test_mean"]
print(table.round(3).to_string(index=False))
print(
    f"\nTaskWeightSearchCV: {cv.get_n_splits()} fits + 1 refit in {conditioned_s:.1f} s; "
    f"GridSearchCV: {len(candidates) * cv.get_n_splits()} fits + 1 refit in {static_s:.1f} s"
)
print("best (conditioned):", search.best_params_)
print("best (static):     ", static.best_params_)

# The trade-off the refitted conditioned model serves, on the test split.
front = pareto_front(search.best_estimator_, test.text, test.targets, n_points=5)
print("\nPareto front on test:")
print(front.to_frame().round(3).to_string(index=False))
print(f"hypervolume: {front.hypervolume():.2e}")

try:  # the plot needs matplotlib (pip install 'skmtl[plot]')
    import matplotlib

    matplotlib.use("Agg")
    display = front.plot()
    path = os.path.join(tempfile.mkdtemp(), "front.png")
    display.figure_.savefig(path, dpi=80)
    print("front plot:", path)
except ImportError:
    print("front plot: skipped (matplotlib is not installed)")
