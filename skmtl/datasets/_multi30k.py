"""Multi30K Task 1 loader (Elliott et al., 2016): English image captions with
German and French translations, line-aligned across languages.

The data is for non-commercial research and educational use only, so it is never
shipped with skmtl: pass the folder that holds it (``shared/data/multi30k`` in
this project, with ``raw/`` and ``tok/`` subfolders of gzipped files).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pandas as pd
from sklearn.utils import Bunch

SOURCE = "en"
TARGETS = ("de", "fr")
SPLITS = (
    "train",
    "val",
    "test_2016_flickr",
    "test_2017_flickr",
    "test_2017_mscoco",
    "test_2018_flickr",
)
SPLIT_ALIASES = {"dev": "val", "test": "test_2016_flickr"}
#: Splits whose target-language references may be absent (they were released later).
_OPTIONAL_REFERENCES = ("test_2018_flickr",)

DESCR_TEMPLATE = """\
Multi30K Task 1 (image-caption translation, English -> German / French)
-----------------------------------------------------------------------

Source: github.com/multi30k/dataset, data/task1 (commit a3d2e0d).
License / terms: partly derived from Flickr30K (Flickr Terms of Use). The data is
"solely provided for researchers and educators who wish to use the dataset for
non-commercial research and/or educational purposes". It is not shipped with skmtl.

Elliott, D., Frank, S., Sima'an, K., Specia, L. (2016). Multi30K: Multilingual
English-German Image Descriptions. 5th Workshop on Vision and Language, 70-74.
French data / test 2017: Elliott, D., Frank, S., Barrault, L., Bougares, F.,
Specia, L. (2017). Findings of the Second Shared Task on Multimodal Machine
Translation and Multilingual Image Description. WMT 2017.
Test 2018: Barrault, L., et al. (2018). Findings of the Third Shared Task on
Multimodal Machine Translation. WMT 2018.

Loaded from: {origin}
Split: {split} ({n} sentences), {form} text
Targets: {targets}

``text`` holds the English sentences; each column of ``targets`` holds the
translation of the same line into one target language (line i is aligned across
languages). BLEU in the MMT literature is computed on the lowercased, tokenized
files (``tokenized=True``); they keep the Moses tokenizer's escapes (``&apos;``,
``&quot;``, ``&amp;``) as upstream does.
"""


def _check_split(split: str) -> str:
    if isinstance(split, str):
        split = SPLIT_ALIASES.get(split, split)
    if not isinstance(split, str) or split not in SPLITS:
        names = [*SPLITS, *SPLIT_ALIASES]
        raise ValueError(f"split must be one of {names}, got {split!r}.")
    return split


def _check_targets(targets) -> tuple[str, ...]:
    if isinstance(targets, str):
        targets = (targets,)
    try:
        targets = tuple(targets)
    except TypeError:
        raise ValueError(
            f"targets must be a sequence of {list(TARGETS)}, got {targets!r}."
        ) from None
    bad = [t for t in targets if t not in TARGETS]
    if bad or not targets:
        raise ValueError(f"targets must be a non-empty subset of {list(TARGETS)}, got {targets!r}.")
    if len(set(targets)) != len(targets):
        raise ValueError(f"targets has duplicates: {targets!r}.")
    return targets


def _not_found(path: Path, what: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"Multi30K {what} not found: {str(path)!r}. The data is not shipped with skmtl "
        "(non-commercial terms); in this project it is in shared/data/multi30k: pass that "
        "folder as `root` (it holds raw/ and tok/ with files such as raw/train.en.gz)."
    )


def _read_gz_lines(path: Path) -> list[str]:
    """Lines of a gzipped UTF-8 file, split on "\\n" only (as ``gzip -dc | sed -n Np``)."""
    with gzip.open(path, "rb") as f:
        text = f.read().decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n") if text else []


def load_multi30k(
    root: str | os.PathLike,
    split: str = "train",
    targets: tuple[str, ...] | list[str] | str = ("de", "fr"),
    tokenized: bool = False,
) -> Bunch:
    """Load one split of Multi30K Task 1 (English -> German / French translation).

    The data is for non-commercial research and educational use only and is
    not shipped with skmtl: ``root`` is required.

    Parameters
    ----------
    root : str or path-like
        The Multi30K folder (``shared/data/multi30k`` in this project), holding
        ``raw/{split}.{en,de,fr}.gz`` and
        ``tok/{split}.lc.norm.tok.{en,de,fr}.gz``.
    split : str, default="train"
        One of "train", "val", "test_2016_flickr", "test_2017_flickr",
        "test_2017_mscoco", "test_2018_flickr". Aliases: "dev" for "val" and
        "test" for "test_2016_flickr" (the standard "test2016").
    targets : sequence of {"de", "fr"} or str, default=("de", "fr")
        Target languages, one column of ``targets`` each, in this order.
    tokenized : bool, default=False
        If False, read the cased, untokenized ``raw/`` files. If True, read the
        lowercased, punctuation-normalized, Moses-tokenized ``tok/`` files
        (source and targets), against which BLEU is usually reported. Their
        text is upstream's, Moses escapes such as ``&apos;`` included.

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with the attributes:

        text : list of str
            The English source sentences.
        targets : pandas.DataFrame
            One column per target language (``"de"``, ``"fr"``), object dtype,
            cells are str. For ``test_2018_flickr``, whose references were
            released later, a language whose file is absent has None cells.
        split : str
            The split read (aliases resolved).
        DESCR : str
            Description of the data set, with license and citations.

    Raises
    ------
    FileNotFoundError
        If ``root`` or one of the needed files does not exist.
    ValueError
        If ``split`` or ``targets`` is not valid, or the files of the split do
        not have the same number of lines.

    Examples
    --------
    >>> from skmtl.datasets import load_multi30k
    >>> data = load_multi30k("../shared/data/multi30k", split="test")  # doctest: +SKIP
    >>> len(data.text), list(data.targets.columns)  # doctest: +SKIP
    (1000, ['de', 'fr'])
    """
    split = _check_split(split)
    targets = _check_targets(targets)
    if root is None:
        raise TypeError(
            "root is required: Multi30K is not shipped with skmtl; pass the folder "
            "shared/data/multi30k."
        )
    root = Path(root).expanduser()
    if not root.is_dir():
        raise _not_found(root, "folder")
    sub = "tok" if tokenized else "raw"

    def path(lang: str) -> Path:
        name = f"{split}.lc.norm.tok.{lang}.gz" if tokenized else f"{split}.{lang}.gz"
        return root / sub / name

    src_path = path(SOURCE)
    if not src_path.is_file():
        raise _not_found(src_path, "file")
    text = _read_gz_lines(src_path)
    columns = {}
    for lang in targets:
        p = path(lang)
        if not p.is_file():
            if split in _OPTIONAL_REFERENCES:
                columns[lang] = [None] * len(text)
                continue
            raise _not_found(p, "file")
        lines = _read_gz_lines(p)
        if len(lines) != len(text):
            raise ValueError(
                f"{str(p)!r} has {len(lines)} lines but {src_path.name!r} has {len(text)}: "
                "the files of a split must be line-aligned."
            )
        columns[lang] = lines
    frame = pd.DataFrame({lang: pd.Series(columns[lang], dtype=object) for lang in targets})
    return Bunch(
        text=text,
        targets=frame,
        split=split,
        DESCR=DESCR_TEMPLATE.format(
            origin=str(root),
            split=split,
            n=len(text),
            form="lowercased tokenized" if tokenized else "raw (cased, untokenized)",
            targets=", ".join(targets),
        ),
    )
