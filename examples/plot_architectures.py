"""Comparing sharing architectures
==================================

How the tasks share the network is a parameter of every skmtl estimator,
``architecture=``: :mod:`skmtl.architectures` has hard parameter sharing (one
trunk for every task, the default), mixtures of experts with a gate per task
(MMoE), progressive layered extraction with shared and per-task experts (PLE)
and cross-stitch networks (one column per task, mixed after every layer). This
example fits each of them on the three GoEmotions tasks with the same hidden
layers and budget, and compares their test scores task by task.
"""

# %%
# Fit one model per architecture
# ------------------------------
# Each model stops early on 10 % of the training comments and keeps its best
# epoch, so that every architecture gets the number of epochs that suits it.
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

from skmtl import MultiTaskClassifier
from skmtl.architectures import PLE, CrossStitch, HardSharing, MMoE
from skmtl.datasets import load_goemotions
from skmtl.metrics import task_scores

warnings.simplefilter("ignore", ConvergenceWarning)  # a short demo budget, on purpose
train, test = load_goemotions(split="train"), load_goemotions(split="test")
vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(train.text)
X, X_test = vectorizer.transform(train.text), vectorizer.transform(test.text)

architectures = {
    "hard sharing": HardSharing(),
    "MMoE (4 experts)": MMoE(n_experts=4),
    "PLE (2 levels)": PLE(n_levels=2),
    "cross-stitch": CrossStitch(),
}
rows = {}
for name, architecture in architectures.items():
    model = MultiTaskClassifier(
        hidden_layer_sizes=(128, 64),
        architecture=architecture,
        learning_rate=1e-2,
        max_epochs=15,
        early_stopping=True,
        n_iter_no_change=2,
        random_state=0,
    )
    tic = time.perf_counter()
    model.fit(X, train.targets)
    seconds = time.perf_counter() - tic
    scores = task_scores(test.targets, model.predict(X_test), metrics="f1_macro")
    rows[name] = {task: s["f1_macro"] for task, s in scores.items()}
    rows[name]["parameters"] = sum(p.numel() for p in model.module_.parameters())
    rows[name]["epochs"] = model.n_iter_
    rows[name]["fit (s)"] = seconds

table = pd.DataFrame.from_dict(rows, orient="index")
tasks = list(train.targets.columns)
table["mean"] = table[tasks].mean(axis=1)
print("test macro F1 per task, and the cost of each architecture:")
with pd.option_context("display.width", 120):
    print(table[[*tasks, "mean", "parameters", "epochs", "fit (s)"]].round(3).to_string())

# %%
# Scores per task
# ---------------
# One group of bars per task, one bar per architecture. The coarse sentiment
# task scores about the same everywhere; the architectures differ on the finer
# tasks, and those with per-task experts or columns cost several times the
# parameters of hard sharing. On a 600-comment test set, differences of a few
# points are within the noise: compare over several seeds (or folds) before
# choosing.
fig, ax = plt.subplots(figsize=(8, 4.5))
width = 0.8 / len(table)
position = np.arange(len(tasks))
for k, (name, row) in enumerate(table.iterrows()):
    offset = (k - (len(table) - 1) / 2) * width
    bars = ax.bar(position + offset, row[tasks].to_numpy(float), width, label=name)
    ax.bar_label(bars, fmt="%.2f", fontsize=7)
ax.set_xticks(position, tasks)
ax.set_ylabel("test macro F1")
ax.set_title("GoEmotions: sharing architectures compared")
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()
