"""EmoBank loader (Buechel & Hahn, 2017)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from sklearn.utils import Bunch

from ._base import check_split, resolve_dir

TARGETS = ["V", "A", "D"]
_COLUMNS = ["id", "split", "V", "A", "D", "text"]

DESCR_TEMPLATE = """\
EmoBank (sentence-level Valence-Arousal-Dominance regression)
-------------------------------------------------------------

Source: JULIELab/EmoBank, corpus/emobank.csv (CC BY-SA 4.0). Raw text from MASC
(ANC) and the SemEval-2007 Task 14 headlines.
Buechel, S., Hahn, U. (2017). EmoBank: Studying the Impact of Annotation
Perspective and Representation Format on Dimensional Emotion Analysis. EACL 2017.
Buechel, S., Hahn, U. (2017). Readers vs. Writers vs. Texts. LAW-XI @ EACL 2017.

Loaded from: {origin}
Split: {split} ({n} sentences; upstream split of Dec 2019, stratified by genre)

Targets: float columns ``V`` (valence), ``A`` (arousal), ``D`` (dominance), the
weighted average of reader and writer ratings on a 1-5 scale. The variance is
small, so Pearson r per dimension is the usual metric.
"""


def load_emobank(path: str | os.PathLike | None = None, split: str = "train") -> Bunch:
    """Load one split of EmoBank with Valence, Arousal and Dominance targets.

    Parameters
    ----------
    path : str, path-like or None, default=None
        Directory holding the upstream ``emobank.csv`` (columns ``id, split,
        V, A, D, text``), or the path of that file. ``None`` loads the small
        sample shipped with skmtl (1500 train / 300 dev / 300 test sentences,
        see ``skmtl/datasets/data/ATTRIBUTION.md``).
    split : {"train", "dev", "test"}, default="train"
        Which split to read; the names are those of the upstream ``split``
        column.

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with the attributes:

        text : list of str
            The sentences (read verbatim: no value is turned into NaN).
        targets : pandas.DataFrame
            Float columns ``V``, ``A``, ``D``.
        ids : list of str
            EmoBank sentence ids.
        DESCR : str
            Description of the data set.

    Raises
    ------
    ValueError
        If ``split`` is not one of "train", "dev", "test", or the file lacks
        the expected columns.
    FileNotFoundError
        If ``path`` does not hold ``emobank.csv``.

    Examples
    --------
    >>> from skmtl.datasets import load_emobank
    >>> data = load_emobank(split="dev")
    >>> data.targets.shape
    (300, 3)
    >>> list(data.targets.columns)
    ['V', 'A', 'D']
    >>> bool(data.targets.ge(1).all().all() and data.targets.le(5).all().all())
    True
    """
    split = check_split(split)
    if path is not None and Path(path).expanduser().is_file():
        csv_path = Path(path).expanduser()
    else:
        csv_path = resolve_dir(path, "emobank", ["emobank.csv"]) / "emobank.csv"
    df = pd.read_csv(
        csv_path,
        keep_default_na=False,
        dtype={"id": str, "split": str, "text": str},
    )
    missing = [c for c in _COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{csv_path}: missing columns {missing}; expected {_COLUMNS}.")
    df = df[df["split"] == split].reset_index(drop=True)
    targets = df[TARGETS].astype("float64")
    origin = "sample shipped with skmtl" if path is None else str(csv_path)
    return Bunch(
        text=[str(t) for t in df["text"]],
        targets=targets,
        ids=[str(i) for i in df["id"]],
        DESCR=DESCR_TEMPLATE.format(origin=origin, split=split, n=len(df)),
    )
