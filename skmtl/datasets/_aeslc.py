"""AESLC loader (Zhang & Tetreault, 2019): Enron email bodies with their subject
lines, plus three crowd-annotated subjects per email in dev and test.

The data is CC BY-NC-SA 4.0 (non-commercial), so it is never shipped with skmtl:
pass the folder that holds it (``shared/data/aeslc`` in this project, one
``enron_subject_line.{split}.tar.gz`` per split, read without extraction).
"""

from __future__ import annotations

import os
import re
import tarfile
from pathlib import Path, PurePosixPath

import pandas as pd
from sklearn.utils import Bunch

SPLITS = ("train", "dev", "test")
SPLIT_ALIASES = {"val": "dev"}
ANNOTATIONS = ("ann0", "ann1", "ann2")
_MARKER = re.compile(r"@(subject|ann[0-2])\Z")

DESCR_TEMPLATE = """\
AESLC: Annotated Enron Subject Line Corpus (email body -> subject line)
-----------------------------------------------------------------------

Source: github.com/ryanzhumich/AESLC, enron_subject_line/ (commit 7afc087).
License: CC BY-NC-SA 4.0 (attribution, non-commercial, share-alike). The Enron
emails were made public by the US FERC. Not shipped with skmtl.

Zhang, R., Tetreault, J. (2019). This Email Could Save Your Life: Introducing
the Task of Email Subject Line Generation. ACL 2019, 446-456.

Loaded from: {origin}
Split: {split} ({n} emails)

``text`` holds the email bodies (one sentence per line, lines joined with
"\\n"); ``targets["subject"]`` the original subject line. In dev and test,
``annotations`` holds three crowd-annotated subjects (``ann0``-``ann2``) used
for multi-reference evaluation; TFDS / Hugging Face ``aeslc`` (and PEGASUS)
score against the original subject only. Say which protocol you report.
"""


def _check_split(split: str) -> str:
    if isinstance(split, str):
        split = SPLIT_ALIASES.get(split, split)
    if not isinstance(split, str) or split not in SPLITS:
        raise ValueError(f"split must be one of {[*SPLITS, *SPLIT_ALIASES]}, got {split!r}.")
    return split


def _strip_blank(lines: list[str]) -> list[str]:
    """``lines`` without leading and trailing empty lines."""
    start, stop = 0, len(lines)
    while start < stop and not lines[start].strip():
        start += 1
    while stop > start and not lines[stop - 1].strip():
        stop -= 1
    return lines[start:stop]


def parse_subject_file(content: str, name: str = "<string>") -> dict[str, str | None]:
    """Parse one AESLC ``.subject`` file into body, subject and annotations.

    The file is the body (one sentence per line), a blank line, ``@subject``,
    the subject line and, in dev/test, blocks ``@ann0`` to ``@ann2`` each
    followed by one annotated subject. Returns a dict with keys ``body``,
    ``subject``, ``ann0``, ``ann1``, ``ann2`` (None for absent blocks).
    """
    lines = content.replace("\r\n", "\n").split("\n")
    marks = [(i, m.group(1)) for i, line in enumerate(lines) if (m := _MARKER.match(line))]
    if not marks or marks[0][1] != "subject":
        raise ValueError(f"{name}: no '@subject' line before the annotations.")
    out: dict[str, str | None] = {"body": "\n".join(_strip_blank(lines[: marks[0][0]]))}
    out.update(dict.fromkeys(("subject", *ANNOTATIONS)))
    for k, (i, key) in enumerate(marks):
        if out[key] is not None:
            raise ValueError(f"{name}: '@{key}' occurs more than once.")
        stop = marks[k + 1][0] if k + 1 < len(marks) else len(lines)
        out[key] = "\n".join(_strip_blank(lines[i + 1 : stop]))
    return out


def load_aeslc(root: str | os.PathLike, split: str = "train") -> Bunch:
    """Load one split of AESLC (email body -> subject line generation).

    The data is CC BY-NC-SA 4.0 (non-commercial) and is not shipped with
    skmtl: ``root`` is required.

    Parameters
    ----------
    root : str or path-like
        The AESLC folder (``shared/data/aeslc`` in this project), holding
        ``enron_subject_line.{train,dev,test}.tar.gz``. The archives are read
        in one pass, without extraction.
    split : {"train", "dev", "test"}, default="train"
        Which split to read; "val" is an alias for "dev".

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with the attributes, one row per email, sorted
        by archive member name:

        text : list of str
            The email bodies, their lines joined with ``"\\n"``.
        targets : pandas.DataFrame
            Column ``subject``: the original subject line (object dtype, str).
        annotations : pandas.DataFrame
            Columns ``ann0``, ``ann1``, ``ann2``: the crowd-annotated subjects
            of dev and test (object dtype); None where absent (all of train).
        ids : list of str
            The file stems, ``<user>_<folder>_<n>``.
        split : str
            The split read (aliases resolved).
        DESCR : str
            Description of the data set, with license and citation.

    Raises
    ------
    FileNotFoundError
        If ``root`` or the split's archive does not exist.
    ValueError
        If ``split`` is not valid, or a file lacks its ``@subject`` block.

    Examples
    --------
    >>> from skmtl.datasets import load_aeslc
    >>> data = load_aeslc("../shared/data/aeslc", split="test")  # doctest: +SKIP
    >>> len(data.text), list(data.annotations.columns)  # doctest: +SKIP
    (1906, ['ann0', 'ann1', 'ann2'])
    """
    split = _check_split(split)
    if root is None:
        raise TypeError(
            "root is required: AESLC is not shipped with skmtl; pass the folder shared/data/aeslc."
        )
    root = Path(root).expanduser()
    archive = root / f"enron_subject_line.{split}.tar.gz"
    if not archive.is_file():
        what = "file" if root.is_dir() else "folder"
        missing = archive if root.is_dir() else root
        raise FileNotFoundError(
            f"AESLC {what} not found: {str(missing)!r}. The data is not shipped with skmtl "
            "(CC BY-NC-SA 4.0); in this project it is in shared/data/aeslc: pass that folder "
            "as `root` (it holds enron_subject_line.{train,dev,test}.tar.gz)."
        )

    records = []
    with tarfile.open(archive, mode="r|gz") as tar:  # one sequential pass
        for member in tar:
            if not member.isfile() or not member.name.endswith(".subject"):
                continue
            content = tar.extractfile(member).read().decode("utf-8")
            records.append((member.name, parse_subject_file(content, member.name)))
    records.sort(key=lambda r: r[0])

    ids = [PurePosixPath(name).stem for name, _ in records]
    text = [rec["body"] for _, rec in records]
    targets = pd.DataFrame({"subject": pd.Series([r["subject"] for _, r in records], dtype=object)})
    annotations = pd.DataFrame(
        {a: pd.Series([r[a] for _, r in records], dtype=object) for a in ANNOTATIONS}
    )
    return Bunch(
        text=text,
        targets=targets,
        annotations=annotations,
        ids=ids,
        split=split,
        DESCR=DESCR_TEMPLATE.format(origin=str(root), split=split, n=len(text)),
    )
