"""Gradient conflicts between tasks
===================================

Tasks share the trunk of a multi-task network, so every update of the trunk
is a compromise between the tasks' gradients. When two gradients point in
opposite directions (a negative cosine similarity) a step that helps one task
hurts the other: the tasks *conflict*. With ``record_gradients=True`` the
estimators record, after every epoch, each task's gradient on the shared
parameters; :class:`~skmtl.plotting.GradientConflictDisplay` plots the cosine
of every pair of tasks over training.

The three GoEmotions tasks label the same comments at three granularities, so
their gradients should agree. A fourth task of random labels stands in for an
unrelated task.
"""

# %%
# Fit with gradient recording
# ---------------------------
# Each epoch's record of ``history_`` gets ``grad_norm`` (``{task: norm}``) and
# ``grad_cosine`` (``{"a|b": cosine}``), computed on a fixed probe batch; the
# training itself is unchanged.
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

from skmtl import MultiTaskClassifier
from skmtl.datasets import load_goemotions
from skmtl.plotting import GradientConflictDisplay, HistoryDisplay

warnings.simplefilter("ignore", ConvergenceWarning)  # a short demo budget, on purpose
train = load_goemotions(split="train")
X = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(train.text)
Y = train.targets.copy()
rng = np.random.RandomState(0)
Y["random"] = rng.choice(["r0", "r1", "r2", "r3"], size=len(Y))  # an unrelated task

model = MultiTaskClassifier(
    hidden_layer_sizes=(128,),
    learning_rate=1e-2,
    max_epochs=15,
    record_gradients=True,
    random_state=0,
).fit(X, Y)

# %%
# Cosine similarity of each pair of tasks
# ---------------------------------------
# The three emotion tasks keep clearly positive cosines: their gradients
# agree. The pairs with the random task stay near 0 and now and then dip below
# it (the shaded region of conflicts): its gradient is nearly orthogonal to the
# others', as an unrelated task's should be.
fig, ax = plt.subplots(figsize=(8, 5))
display = GradientConflictDisplay.from_estimator(model, ax=ax)
ax.set_title("gradient cosine similarity per pair of tasks")

# %%
# The gradient norms, one of the other recorded keys, are a history key like
# any other for :class:`~skmtl.plotting.HistoryDisplay`.
norms = HistoryDisplay.from_estimator(model, metric="grad_norm")
norms.ax_.set_title("gradient norm per task")

# %%
# A summary per pair
# ------------------
# ``conflict_fraction`` is each pair's share of epochs with a negative cosine.
cosines = pd.DataFrame(model.history_[:, "grad_cosine"])
summary = pd.DataFrame(
    {
        "mean cosine": cosines.mean(),
        "min cosine": cosines.min(),
        "conflict fraction": pd.Series(display.conflict_fraction),
    }
)
summary.index.name = "pair"
print(summary.round(3).to_string())
plt.show()
