"""Multi-task gain over single-task models
==========================================

Is one model for all the tasks better than one model per task? The relative
gain ``Δ_t = (M_mtl - M_st) / |M_st|`` compares, task by task, the multi-task
model's test score with that of a single-task model of the same configuration
(its sign flipped for a lower-is-better metric), and ``Δm`` is its mean over
the tasks (Maninis et al., 2019). :class:`~skmtl.plotting.RelativeGainDisplay`
draws one bar per task, green where the multi-task model wins and red where it
loses, with ``Δm`` as a dashed line.

The GoEmotions emotion task keeps only 300 of its 3000 training labels here;
its coarser relatives (Ekman groups, sentiment) keep all of theirs.
"""

# %%
# Fit the multi-task model and one model per task
# -----------------------------------------------
# :func:`skmtl.diagnostics.single_task_baselines` fits a clone of the estimator
# on every task and one clone per task, and scores each task on the test set.
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

from skmtl import MultiTaskClassifier
from skmtl.datasets import load_goemotions
from skmtl.diagnostics import single_task_baselines
from skmtl.plotting import RelativeGainDisplay

warnings.simplefilter("ignore", ConvergenceWarning)  # a short demo budget, on purpose
train, test = load_goemotions(split="train"), load_goemotions(split="test")
vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(train.text)
X, X_test = vectorizer.transform(train.text), vectorizer.transform(test.text)

Y = train.targets.copy()
rng = np.random.RandomState(0)
keep = rng.permutation(len(Y))[:300]
Y.loc[~Y.index.isin(keep), "emotion"] = None  # a low-resource task: 300 labels

model = MultiTaskClassifier(
    hidden_layer_sizes=(128,), learning_rate=1e-2, max_epochs=8, min_labels=1, random_state=0
)
report = single_task_baselines(model, X, Y, X_test, test.targets)
with pd.option_context("display.width", 120):
    print(report.round(3).to_string())
print(f"delta_m: {report.attrs['delta_m']:+.3f}")

# %%
# The gains per task
# ------------------
# The low-resource emotion task gains most from sharing the trunk with its
# well-labelled relatives; the two coarse tasks, which have all their labels,
# lose a little to the compromise.
display = RelativeGainDisplay.from_gain(report)
display.ax_.set_title("GoEmotions: multi-task vs single-task (test macro F1)")
display.figure_.tight_layout()

# %%
# Precomputed scores
# ------------------
# ``from_scores`` takes any two sets of per-task scores, for instance those of
# a cross-validation, with ``higher_is_better`` for lower-is-better metrics.
RelativeGainDisplay.from_scores(
    report["mtl_score"], report["single_task_score"], metrics=report["metric"].to_dict()
)
plt.show()
