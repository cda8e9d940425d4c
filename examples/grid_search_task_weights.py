"""Grid search over one task's loss weight, inside a Pipeline on raw text
======================================================================

``task_weights__<task>`` tunes one task's weight while the others keep theirs;
``multitask_scorers`` scores every task in one predict call and ``refit="mean"``
refits the candidate with the best mean score.
"""

import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from skmtl import MultiTaskClassifier
from skmtl.datasets import load_goemotions
from skmtl.metrics import multitask_scorers

data = load_goemotions(split="train")
text, targets = data.text[:1200], data.targets.iloc[:1200]

pipe = Pipeline(
    [
        ("tfidf", TfidfVectorizer(sublinear_tf=True, min_df=2)),
        (
            "mtl",
            MultiTaskClassifier(
                hidden_layer_sizes=(64,),
                learning_rate=1e-2,
                max_epochs=6,
                threshold=0.3,
                random_state=0,
            ),
        ),
    ]
)
scoring = multitask_scorers({"emotion": "f1_macro", "ekman": "f1_macro", "sentiment": "f1_macro"})
search = GridSearchCV(
    pipe,
    param_grid={"mtl__task_weights__emotion": [0.5, 1.0, 4.0]},
    scoring=scoring,
    refit="mean",
    cv=KFold(3, shuffle=True, random_state=0),
)
search.fit(text, targets)

table = pd.DataFrame(search.cv_results_["params"])
for key in scoring:
    table[key] = search.cv_results_[f"mean_test_{key}"]
print(table.round(3).to_string(index=False))
print("\nbest:", search.best_params_, f"mean macro-F1 {search.best_score_:.3f}")
