"""Per-task learning curves
===========================

A multi-task model trains several tasks at once, and they need not learn at
the same pace: a fine-grained task may still improve while a coarse one
already overfits. :class:`~skmtl.plotting.HistoryDisplay` draws any entry of
the fitted model's ``history_`` against the epoch, one line per task: here the
training loss and the validation score of the three GoEmotions tasks (28
emotions, 7 Ekman groups, 3 sentiment groups), for a model trained with early
stopping inside a scikit-learn Pipeline.
"""

# %%
# Fit one model on the three tasks
# --------------------------------
# ``early_stopping=True`` holds out 10 % of the comments and records each
# task's validation score (``task_valid_score``: its default metric, macro F1
# for these multilabel tasks) after every epoch; the model keeps the weights of
# the best epoch (``best_epoch_``).
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline

from skmtl import MultiTaskClassifier
from skmtl.datasets import load_goemotions
from skmtl.plotting import HistoryDisplay

warnings.simplefilter("ignore", ConvergenceWarning)  # a short demo budget, on purpose
train = load_goemotions(split="train")
model = make_pipeline(
    TfidfVectorizer(sublinear_tf=True, min_df=2),
    MultiTaskClassifier(
        hidden_layer_sizes=(128,),
        learning_rate=1e-2,
        max_epochs=20,
        early_stopping=True,
        random_state=0,
    ),
)
model.fit(train.text, train.targets)
clf = model[-1]
print(f"trained {clf.n_iter_} epochs, best epoch: {clf.best_epoch_}")

# %%
# Loss and validation score per task
# ----------------------------------
# ``from_estimator`` takes the Pipeline and reads its last step's history.
# Every training loss keeps falling, but the validation scores peak at
# different epochs: the coarse sentiment task first, the 28 emotions last. The
# dashed line marks the epoch early stopping restored (the best mean score).
fig, (ax_loss, ax_valid) = plt.subplots(1, 2, figsize=(11, 4))
HistoryDisplay.from_estimator(model, metric="task_loss", ax=ax_loss)
HistoryDisplay.from_estimator(model, metric="task_valid_score", ax=ax_valid)
ax_loss.set_title("training loss")
ax_valid.set_title("validation score (per task)")
fig.tight_layout()

# %%
# The same numbers as a table
# ---------------------------
# ``history_`` slices like skorch's: ``history_[:, "task_valid_score"]`` is the
# list of every epoch's ``{task: score}``.
table = pd.DataFrame(clf.history_[:, "task_valid_score"], index=clf.history_[:, "epoch"])
table.index.name = "epoch"
print("validation score per task and epoch:")
print(table.round(3).to_string())

# %%
# A scalar key draws one line: ``valid_score`` is the mean over the tasks that
# early stopping watches. ``tasks=[...]`` keeps some of the tasks of a per-task
# key, and ``record_gradients=True`` adds ``grad_norm`` (see the gradient
# conflicts example).
fig, (ax_mean, ax_emotion) = plt.subplots(1, 2, figsize=(11, 4))
HistoryDisplay.from_estimator(model, metric="valid_score", ax=ax_mean)
HistoryDisplay.from_estimator(model, metric="task_loss", tasks=["emotion"], ax=ax_emotion)
ax_mean.set_title("mean validation score")
ax_emotion.set_title("emotion: training loss")
fig.tight_layout()
plt.show()
