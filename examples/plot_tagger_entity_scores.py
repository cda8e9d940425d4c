"""Entity scores of a multi-task tagger
=======================================

:class:`~skmtl.MultiTaskTagger` learns several token-level tasks at once over
one text encoder. Here it tags the shipped English Web Treebank sample with
universal part-of-speech tags (UPOS) and named entities (NER, IOB2 tags of
Universal NER) together. :class:`~skmtl.plotting.SpanScoresDisplay` shows the
NER task's strict span precision, recall and F1 per entity type: a predicted
entity counts only if its type, start and end all match (seqeval's strict
mode).
"""

# %%
# Fit the tagger on UPOS and NER
# ------------------------------
# ``crf="auto"`` gives the IOB2 task a linear-chain CRF head, whose decoding
# only produces well-formed entity spans.
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from skmtl import MultiTaskTagger
from skmtl.datasets import load_ewt
from skmtl.metrics import span_scores, task_scores
from skmtl.plotting import SpanScoresDisplay

warnings.simplefilter("ignore", ConvergenceWarning)  # a short demo budget, on purpose
train = load_ewt(split="train", tasks=("upos", "ner"))
test = load_ewt(split="test", tasks=("upos", "ner"))
print(f"{len(train.tokens)} training and {len(test.tokens)} test sentences")

tagger = MultiTaskTagger(crf="auto", max_epochs=10, random_state=0)
tagger.fit(train.tokens, train.targets)
pred = tagger.predict(test.tokens)
scores = task_scores(
    test.targets, pred, metrics={"upos": "token_accuracy", "ner": ["span_f1", "token_accuracy"]}
)
print("test scores:", {task: {m: round(v, 3) for m, v in s.items()} for task, s in scores.items()})

# %%
# Span scores per entity type
# ---------------------------
# ``from_estimator`` predicts the sentences and scores the tagger's IOB2 task
# (pass ``task=`` when there are several). The support under each type is its
# number of true entities in the test sentences; the dashed line is the
# micro-averaged F1 over all entities.
display = SpanScoresDisplay.from_estimator(tagger, test.tokens, test.targets, task="ner")
display.figure_.tight_layout()

# %%
# The same numbers as a table, from :func:`skmtl.metrics.span_scores`
# (``SpanScoresDisplay.from_predictions(y_true, y_pred)`` plots such
# predictions directly).
per_type = pd.DataFrame(span_scores(test.targets["ner"], pred["ner"])["per_type"]).T
per_type["support"] = per_type["support"].astype(int)
per_type.index.name = "entity type"
print(per_type.round(3).to_string())
plt.show()
