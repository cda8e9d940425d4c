"""Helpers shared by the benchmark scripts.

The scripts run as ``python benchmarks/<script>.py``, so this folder is on
``sys.path`` and they import these as ``from _common import machine_info``.

* :func:`machine_info`: the machine and software a result was measured on;
* :class:`GoEmotionsTfidf`: the three GoEmotions tasks over TF-IDF features,
  macro-F1 per task (``bench_weighting.py``, ``bench_architectures.py``);
* :class:`EWTTagging`: English-EWT UPOS + UNER NER word lists and tag lists,
  token accuracy and span F1 (``bench_weighting.py``, ``bench_architectures.py``).
"""

from __future__ import annotations

import os
import platform
import sys
import warnings
from importlib import metadata
from pathlib import Path

__all__ = ["EWTTagging", "GoEmotionsTfidf", "NER_DRAFT_NOTE", "machine_info"]

NER_DRAFT_NOTE = (
    "The NER train tags are the pre-release UNER draft (commit 0c7ce0d, 'DO NOT "
    "USE'; B-O/B-OTH/I-OTH mapped to O), not the official UNER v1 train split, "
    "which could not be obtained (see uner-english-ewt/PROVENANCE.md). Dev and "
    "test are official. The NER scores compare the models of the benchmark on this "
    "data; they are not UNER results."
)


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # not Linux
        pass
    return None


def machine_info(*packages: str, **extra) -> dict:
    """The machine and software a result was measured on.

    Always: platform, CPU count / affinity / model, Python, numpy, torch (and
    its thread count), scikit-learn and skmtl; plus the version of each
    distribution named in ``packages`` and the ``extra`` items as given.
    """
    import numpy as np
    import sklearn
    import torch

    import skmtl

    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_num_threads": torch.get_num_threads(),
        "torch_num_interop_threads": torch.get_num_interop_threads(),
        "sklearn": sklearn.__version__,
        "skmtl": skmtl.__version__,
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpu_affinity"] = len(os.sched_getaffinity(0))
    for name in packages:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = None
    info.update(extra)
    return info


# --------------------------------------------------------------------------- data


def _random_subset(n: int, size: int | None, seed: int = 0):
    """Sorted indices of a random subset of ``size`` of ``range(n)`` (None: everything)."""
    import numpy as np

    if not size or size >= n:
        return None
    return np.sort(np.random.RandomState(seed).choice(n, size, replace=False))


class GoEmotionsTfidf:
    """GoEmotions' three multilabel tasks over TF-IDF features of the comments.

    ``X[split]``: float32 CSR TF-IDF (word 1-2 grams, ``sublinear_tf``,
    ``min_df=2``, ``max_features``; fit on the train split); ``Y[split]``: a
    DataFrame of label tuples, columns ``tasks``. ``train_rows``: a random
    subset of the train split (``RandomState(subset_seed)``), ``eval_rows``
    the same for dev and test (None: whole splits).
    """

    tasks = ("emotion", "ekman", "sentiment")
    metric = dict.fromkeys(tasks, "macro-F1")

    def __init__(
        self,
        root: str,
        train_rows: int | None = None,
        max_features: int = 20000,
        eval_rows: int | None = None,
        subset_seed: int = 0,
    ) -> None:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        from skmtl.datasets import load_goemotions

        path = Path(root) / "goemotions"
        splits = {s: load_goemotions(path, split=s) for s in ("train", "dev", "test")}
        self.n_available = {s: len(b.text) for s, b in splits.items()}
        for s, b in splits.items():
            keep = _random_subset(
                len(b.text), train_rows if s == "train" else eval_rows, subset_seed
            )
            if keep is not None:
                b.text = [b.text[i] for i in keep]
                b.targets = b.targets.iloc[keep]
        self.labels = {t: sorted(getattr(splits["train"], f"{t}_names")) for t in self.tasks}
        vec = TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            min_df=2,
            max_features=max_features,
            dtype=np.float32,
        )
        self.X = {"train": vec.fit_transform(splits["train"].text).astype(np.float32).tocsr()}
        for s in ("dev", "test"):
            self.X[s] = vec.transform(splits[s].text).astype(np.float32).tocsr()
        self.Y = {s: splits[s].targets[list(self.tasks)].reset_index(drop=True) for s in splits}
        self.n_rows = {s: self.X[s].shape[0] for s in self.X}
        self.n_features = self.X["train"].shape[1]

    def fit_data(self, tasks=None):
        Y = self.Y["train"]
        return self.X["train"], Y if tasks is None else Y[list(tasks)]

    def scores(self, model, split="test", tasks=None):
        return self.score_predictions(model.predict(self.X[split]), self.Y[split], tasks)

    def score_predictions(self, pred, truth, tasks=None):
        """Macro-F1 over each task's label columns (threshold 0.5, zero_division=0)."""
        from sklearn.metrics import f1_score
        from sklearn.preprocessing import MultiLabelBinarizer

        out = {}
        for t in tasks or self.tasks:
            mlb = MultiLabelBinarizer(classes=self.labels[t]).fit([self.labels[t]])
            out[t] = float(
                f1_score(
                    mlb.transform(truth[t]),
                    mlb.transform(pred[t]),
                    average="macro",
                    zero_division=0,
                )
            )
        return out


class EWTTagging:
    """UD English-EWT r2.9 UPOS and UNER NER (:func:`skmtl.datasets.load_ewt`).

    ``X[split]``: lists of words; ``Y[split]``: a DataFrame of tag lists,
    columns ``tasks``. ``train_rows`` / ``eval_rows``: random subsets of the
    train / dev and test sentences (``RandomState(subset_seed)``; None: whole
    splits). ``draft``: whether the NER train tags are the UNER draft (then
    :data:`NER_DRAFT_NOTE` is in ``notes``); ``load_warnings``: the loader's
    warnings.
    """

    tasks = ("upos", "ner")
    metric = {"upos": "token accuracy", "ner": "span micro-F1"}

    def __init__(
        self,
        root: str,
        train_rows: int | None = None,
        eval_rows: int | None = None,
        subset_seed: int = 0,
    ) -> None:
        from skmtl.datasets import load_ewt

        splits = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for s in ("train", "dev", "test"):
                splits[s] = load_ewt(root, split=s, tasks=self.tasks)
        self.load_warnings = sorted({str(w.message) for w in caught})
        self.n_available = {s: len(b.tokens) for s, b in splits.items()}
        for s, b in splits.items():
            keep = _random_subset(
                len(b.tokens), train_rows if s == "train" else eval_rows, subset_seed
            )
            if keep is not None:
                b.tokens = [b.tokens[i] for i in keep]
                b.targets = b.targets.iloc[keep]
        self.X = {s: splits[s].tokens for s in splits}
        self.Y = {s: splits[s].targets[list(self.tasks)].reset_index(drop=True) for s in splits}
        self.draft = bool(splits["train"].ner_draft)
        self.n_rows = {s: len(self.X[s]) for s in self.X}
        self.n_words = {s: sum(map(len, self.X[s])) for s in self.X}
        self.notes = [NER_DRAFT_NOTE] if self.draft else []

    def fit_data(self, tasks=None):
        Y = self.Y["train"]
        return self.X["train"], Y if tasks is None else Y[list(tasks)]

    def scores(self, model, split="test", tasks=None):
        return self.score_predictions(model.predict(self.X[split]), self.Y[split], tasks)

    def score_predictions(self, pred, truth, tasks=None):
        """UPOS token accuracy, NER strict IOB2 span micro-F1 (:mod:`skmtl._spans`)."""
        from skmtl._spans import span_scores, token_accuracy

        tasks = list(tasks or self.tasks)
        out = {}
        if "upos" in tasks:
            out["upos"] = float(token_accuracy(list(truth["upos"]), list(pred["upos"])))
        if "ner" in tasks:
            out["ner"] = float(span_scores(list(truth["ner"]), list(pred["ner"]))["f1"])
        return out
