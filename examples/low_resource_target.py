"""A target task with few labels: train it with the auxiliary tasks that help
==========================================================================

GoEmotions' 28 emotions keep 300 of their labels; ekman and sentiment (coarser label
sets of the same comments) keep all of theirs, and a task of random labels stands in
for an auxiliary task that hurts. ``AuxiliaryTaskSelector`` ranks the candidates on the
target's held-out labels, keeps those that help and fits the target with them.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

from skmtl import MultiTaskClassifier
from skmtl.datasets import load_goemotions
from skmtl.diagnostics import AuxiliaryTaskSelector

warnings.simplefilter("ignore", ConvergenceWarning)  # a short demo budget, on purpose
train, test = load_goemotions(split="train"), load_goemotions(split="test")
vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(train.text)
X, X_test = vectorizer.transform(train.text), vectorizer.transform(test.text)

rng = np.random.RandomState(0)
Y = train.targets[["emotion", "ekman", "sentiment"]].copy()
few = rng.permutation(len(Y))[:300]
Y.loc[~Y.index.isin(few), "emotion"] = None  # the target keeps 300 labels
noise = rng.rand(len(Y), 28) < 0.5
Y["random"] = [tuple(f"r{j}" for j in np.flatnonzero(row)) or ("r0",) for row in noise]

model = MultiTaskClassifier(
    hidden_layer_sizes=(128,), learning_rate=3e-3, max_epochs=10, min_labels=1, random_state=0
)
alone = model.fit(X, Y[["emotion"]]).score(X_test, test.targets[["emotion"]])
selector = AuxiliaryTaskSelector(model, "emotion", method="cosine", random_state=0).fit(X, Y)
print("ranking of the candidates for 'emotion':")
print(selector.ranking_[["score", "affinity", "cosine", "selected"]].round(4))
print("kept:", selector.selected_tasks_)
print(f"emotion f1_macro, target alone: {alone:.3f}")
print(f"emotion f1_macro, with the kept tasks: {selector.score(X_test, test.targets):.3f}")
