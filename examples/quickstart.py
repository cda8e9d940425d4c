"""Quickstart: one multi-task classifier on raw text, inside a scikit-learn Pipeline
=================================================================================

GoEmotions sample shipped with skmtl: each Reddit comment has three multilabel
tasks (28 emotions, Ekman groups, sentiment groups). One model learns all three.
"""

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline

from skmtl import MultiTaskClassifier
from skmtl.datasets import load_goemotions
from skmtl.metrics import task_report

train = load_goemotions(split="train")
test = load_goemotions(split="test")
print(train.targets.head(3), "\n")

model = make_pipeline(
    TfidfVectorizer(sublinear_tf=True, min_df=2),
    MultiTaskClassifier(
        hidden_layer_sizes=(128,), learning_rate=1e-2, max_epochs=10, random_state=0
    ),
)
model.fit(train.text, train.targets)

# DataFrame in, DataFrame out: the same task columns, labels as tuples.
print(model.predict(["Thank you so much, this made my day!", "This is so annoying."]), "\n")

# Per-task scores on held-out data. Multilabel thresholds default to 0.5; tune them on
# dev data with skmtl.metrics.tune_thresholds and set_params(threshold={task: ...}).
print(task_report(test.targets, model.predict(test.text)))
