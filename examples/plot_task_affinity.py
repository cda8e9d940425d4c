"""Inter-task affinity
======================

Which tasks help each other? The lookahead affinity of Fifty et al. (2021)
takes one gradient step on a task's loss alone and measures how much every
other task's loss drops: ``Z[i -> j] = 1 - L_j(after) / L_j(before)``.
:func:`skmtl.diagnostics.task_affinity` averages it over training and
:class:`~skmtl.plotting.TaskAffinityDisplay` draws the matrix as a heat map,
blue where a step on the row's task lowers the column's loss, red where it
raises it.

The three GoEmotions tasks (28 emotions, 7 Ekman groups, 3 sentiment groups)
are joined by a task of random labels, which should help no one.
"""

# %%
# Measure the affinity over training
# ----------------------------------
# An unfitted estimator is trained (on a clone) for ``max_epochs`` epochs and
# the ``n_steps`` measurements are spread over its epochs.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

from skmtl import MultiTaskClassifier
from skmtl.datasets import load_goemotions
from skmtl.diagnostics import suggest_task_groups, task_affinity
from skmtl.plotting import TaskAffinityDisplay

warnings.simplefilter("ignore", ConvergenceWarning)  # a short demo budget, on purpose
train = load_goemotions(split="train")
X = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(train.text)
Y = train.targets.copy()
rng = np.random.RandomState(0)
Y["random"] = rng.choice(["r0", "r1", "r2", "r3"], size=len(Y))  # an unrelated task

model = MultiTaskClassifier(
    hidden_layer_sizes=(128,), learning_rate=1e-2, max_epochs=8, random_state=0
)
affinity = task_affinity(model, X, Y, n_steps=40, lookahead_lr=0.1, random_state=0)
print("affinity (rows: the task stepped on, columns: the task measured), x 1000:")
print((1000 * affinity).round(2).to_string())

# %%
# The heat map
# ------------
# The colour map is centred at 0. The diagonal (a step on a task lowers its own
# loss) is the largest; off the diagonal, the emotion tasks help each other
# (ekman and sentiment most), and the random task neither helps nor is helped.
# ``TaskAffinityDisplay.from_estimator(model, X, Y, n_steps=...)`` measures and
# plots in one call.
display = TaskAffinityDisplay.from_affinity(1000 * affinity, values_format=".2f")
display.ax_.set_title("lookahead affinity (x 1000)")
display.figure_.tight_layout()

# %%
# Group the tasks
# ---------------
# :func:`~skmtl.diagnostics.suggest_task_groups` partitions the tasks so that
# each group's members have high affinity onto each other: the random task is
# set apart.
print("suggested 2 groups:", suggest_task_groups(affinity, 2))
plt.show()
