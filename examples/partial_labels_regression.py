"""Several regression scores of the same text, with labels missing for part of the data
====================================================================================

EmoBank sample shipped with skmtl: Valence, Arousal and Dominance of each
sentence. Here Dominance is hidden for 80% of the training rows; those rows
still train the shared layers through V and A, and are skipped in D's loss.
"""

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline

from skmtl import MultiTaskRegressor
from skmtl.datasets import load_emobank
from skmtl.metrics import task_report

train = load_emobank(split="train")
test = load_emobank(split="test")
targets = train.targets.copy()
rng = np.random.RandomState(0)
targets.loc[rng.rand(len(targets)) < 0.8, "D"] = np.nan
print("labelled rows per task:", targets.notna().sum().to_dict(), "\n")

model = make_pipeline(
    TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2)),
    # Few sentences for many features: regularise and stop early on a held-out 10%.
    MultiTaskRegressor(
        hidden_layer_sizes=(64,),
        dropout=0.5,
        weight_decay=0.1,
        learning_rate=1e-2,
        early_stopping=True,
        n_iter_no_change=3,
        random_state=0,
    ),
)
model.fit(train.text, targets)
print(task_report(test.targets, model.predict(test.text)))
