"""GoEmotions loader (Demszky et al., 2020)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd
from sklearn.utils import Bunch

from ._base import check_split, resolve_dir

NEUTRAL = "neutral"
TASKS = ("emotion", "ekman", "sentiment")
_MAPPING_FILES = ["emotions.txt", "ekman_mapping.json", "sentiment_dict.json"]

DESCR_TEMPLATE = """\
GoEmotions (multi-label emotion classification of Reddit comments)
------------------------------------------------------------------

Source: google-research/google-research, goemotions/data (Apache-2.0).
Demszky, D., Movshovitz-Attias, D., Ko, J., Cowen, A., Nemade, G., Ravi, S. (2020).
GoEmotions: A Dataset of Fine-Grained Emotions. ACL 2020.

Loaded from: {origin}
Split: {split} ({n} comments)

Three multi-label tasks on the same texts (columns of ``targets``; each cell is a
sorted tuple of label names):

- ``emotion``: 27 emotions + ``neutral`` (28 labels, ``emotions.txt``).
- ``ekman``: the 6 Ekman groups (``ekman_mapping.json``) + ``neutral``.
- ``sentiment``: positive / negative / ambiguous (``sentiment_dict.json``) + ``neutral``.

The upstream mapping files do not list ``neutral``; following the paper, the
loader keeps ``neutral`` as its own label in every task. An example labelled
with ``neutral`` and another emotion (about 3% of the data) gets ``neutral``
plus the mapped group in the ``ekman`` and ``sentiment`` columns.
"""


def _read_mappings(root: Path):
    emotions = [
        line.strip()
        for line in (root / "emotions.txt").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    groups = {}
    for task, fname in (("ekman", "ekman_mapping.json"), ("sentiment", "sentiment_dict.json")):
        mapping = json.loads((root / fname).read_text(encoding="utf-8"))
        to_group = {}
        for group, members in mapping.items():
            for emo in members:
                if emo not in emotions:
                    raise ValueError(f"{fname}: unknown emotion {emo!r} in group {group!r}.")
                if emo in to_group:
                    raise ValueError(f"{fname}: emotion {emo!r} is in more than one group.")
                to_group[emo] = group
        unmapped = [e for e in emotions if e not in to_group and e != NEUTRAL]
        if unmapped:
            raise ValueError(f"{fname}: emotions {unmapped} are not mapped to any group.")
        if NEUTRAL in emotions:
            to_group[NEUTRAL] = NEUTRAL
        names = list(mapping)
        if NEUTRAL in emotions and NEUTRAL not in names:
            names.append(NEUTRAL)
        groups[task] = (names, to_group)
    return emotions, groups


def load_goemotions(path: str | os.PathLike | None = None, split: str = "train") -> Bunch:
    """Load one split of GoEmotions with emotion, Ekman and sentiment targets.

    Parameters
    ----------
    path : str, path-like or None, default=None
        Directory holding the upstream files ``train.tsv``, ``dev.tsv``,
        ``test.tsv``, ``emotions.txt``, ``ekman_mapping.json`` and
        ``sentiment_dict.json``. ``None`` loads the small sample shipped with
        skmtl (3000 train / 600 dev / 600 test comments, see
        ``skmtl/datasets/data/ATTRIBUTION.md``).
    split : {"train", "dev", "test"}, default="train"
        Which split to read.

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with the attributes:

        text : list of str
            The comments.
        targets : pandas.DataFrame
            Columns ``emotion``, ``ekman`` and ``sentiment``; each cell is a
            sorted tuple of label names. ``neutral`` is its own label in every
            task (the upstream mapping files do not group it).
        ids : list of str
            Reddit comment ids.
        emotion_names, ekman_names, sentiment_names : list of str
            All labels of each task, also those absent from this split.
        DESCR : str
            Description of the data set.

    Raises
    ------
    ValueError
        If ``split`` is not one of "train", "dev", "test", or a label id is
        out of range.
    FileNotFoundError
        If ``path`` lacks one of the expected files.

    Examples
    --------
    >>> from skmtl.datasets import load_goemotions
    >>> data = load_goemotions(split="dev")
    >>> data.targets.shape
    (600, 3)
    >>> list(data.targets.columns)
    ['emotion', 'ekman', 'sentiment']
    >>> data.ekman_names
    ['anger', 'disgust', 'fear', 'joy', 'sadness', 'surprise', 'neutral']
    >>> data.sentiment_names
    ['positive', 'negative', 'ambiguous', 'neutral']
    """
    split = check_split(split)
    fname = f"{split}.tsv"
    root = resolve_dir(path, "goemotions", [fname, *_MAPPING_FILES])
    emotions, groups = _read_mappings(root)
    ekman_names, to_ekman = groups["ekman"]
    sentiment_names, to_sentiment = groups["sentiment"]

    text, ids, emo_col, ekman_col, sent_col = [], [], [], [], []
    with open(root / fname, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        for lineno, row in enumerate(reader, start=1):
            if len(row) != 3:
                raise ValueError(
                    f"{fname}:{lineno}: expected 3 tab-separated fields, got {len(row)}."
                )
            comment, label_ids, cid = row
            try:
                labels = {emotions[int(i)] for i in label_ids.split(",")}
            except (ValueError, IndexError) as exc:
                raise ValueError(f"{fname}:{lineno}: bad emotion ids {label_ids!r}.") from exc
            text.append(comment)
            ids.append(cid)
            emo_col.append(tuple(sorted(labels)))
            ekman_col.append(tuple(sorted({to_ekman[e] for e in labels})))
            sent_col.append(tuple(sorted({to_sentiment[e] for e in labels})))

    targets = pd.DataFrame({"emotion": emo_col, "ekman": ekman_col, "sentiment": sent_col})
    origin = "sample shipped with skmtl" if path is None else str(root)
    return Bunch(
        text=text,
        targets=targets,
        ids=ids,
        emotion_names=list(emotions),
        ekman_names=list(ekman_names),
        sentiment_names=list(sentiment_names),
        DESCR=DESCR_TEMPLATE.format(origin=origin, split=split, n=len(text)),
    )
