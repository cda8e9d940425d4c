"""Regenerate the English-EWT sample shipped in ``skmtl/datasets/data/ewt/``.

Not imported by the package. Usage::

    python -m skmtl.datasets._make_ewt_sample /path/to/data-root [--out DIR]

``data-root`` must contain ``ud-english-ewt/r2.9/en_ewt-ud-{train,dev,test}.conllu[.gz]``,
``uner-english-ewt/en_ewt-ud-{dev,test}.iob2[.gz]`` and
``uner-english-ewt/draft-train-not-official/en_ewt-ud-train.draft-0c7ce0d.iob2[.gz]``
(the layout of ``load_ewt(path=...)``).

How the sample is drawn (deterministic, ``SEED = 0``), per split (300 train /
100 dev / 100 test sentences): going through the requirements below from the
rarest to the most frequent, add random sentences that meet one until it is
met ``MIN_COUNT`` times in the sample (or by every sentence that can), then
fill up with uniformly random sentences. Requirements: the sentence has a
multi-word-token line, an empty node, a ``B-PER`` / ``B-ORG`` / ``B-LOC`` tag,
and (train draft only) a ``B-O`` / ``B-OTH`` / ``I-OTH`` tag. Sentence blocks
(comment lines included) are copied verbatim, UD blocks in UD order and UNER
blocks in UNER order, into files of the upstream formats, gzipped (level 9, no
file name, mtime 0, so the output is reproducible for a given zlib):

- ``en_ewt-ud-{split}.conllu.gz``: UD English-EWT r2.9;
- ``en_ewt-ud-{dev,test}.iob2.gz``: UNER v1;
- ``en_ewt-ud-train.draft-0c7ce0d.iob2.gz``: the pre-release UNER train draft.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np

from ._conll import _existing, _read_lines, _sent_id

SEED = 0
SIZES = {"train": 300, "dev": 100, "test": 100}
MIN_COUNT = 3
DRAFT = "en_ewt-ud-train.draft-0c7ce0d.iob2"


def _blocks(path: Path) -> list[list[str]]:
    """Sentence blocks (lists of lines, comments included) of a CoNLL-style file."""
    blocks, cur = [], []
    for line in _read_lines(path):
        if line.strip():
            cur.append(line)
        elif cur:
            blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    return blocks


def _block_id(block: list[str]) -> str:
    for line in block:
        if line.startswith("#") and (sid := _sent_id(line)) is not None:
            return sid
    raise ValueError(f"sentence without sent_id: {block[:2]}")


def _features(ud_block: list[str], ner_block: list[str]) -> set[str]:
    feats = set()
    for line in ud_block:
        if line.startswith("#"):
            continue
        wid = line.split("\t", 1)[0]
        if "-" in wid:
            feats.add("multiword")
        elif "." in wid:
            feats.add("empty-node")
    for line in ner_block:
        if not line.startswith("#"):
            tag = line.split("\t")[2]
            if tag in {"B-PER", "B-ORG", "B-LOC", "B-O", "B-OTH", "I-OTH"}:
                feats.add(tag)
    return feats


def sample_split(ud_blocks, ner_blocks, size, rng) -> list[str]:
    """sent_ids of the sample, drawn as described in the module docstring."""
    ner_by_id = {_block_id(b): b for b in ner_blocks}
    ids = [_block_id(b) for b in ud_blocks]
    feats = [_features(b, ner_by_id.get(s, [])) for s, b in zip(ids, ud_blocks, strict=True)]
    n = len(ids)
    names = sorted({f for fs in feats for f in fs})
    freq = {f: sum(f in fs for fs in feats) for f in names}
    chosen: set[int] = set()
    for f in sorted(names, key=lambda f: (freq[f], f)):
        have = sum(f in feats[i] for i in chosen)
        pool = [i for i in range(n) if f in feats[i] and i not in chosen]
        take = min(max(MIN_COUNT - have, 0), len(pool))
        if take:
            chosen.update(int(i) for i in rng.choice(pool, size=take, replace=False))
    rest = np.array([i for i in range(n) if i not in chosen])
    need = max(size - len(chosen), 0)
    chosen.update(int(i) for i in rng.choice(rest, size=min(need, len(rest)), replace=False))
    return [ids[i] for i in sorted(chosen)]


def _write(path: Path, blocks: list[list[str]]) -> None:
    """Write the blocks, gzipped reproducibly (no file name, mtime 0)."""
    text = "".join("\n".join(block) + "\n\n" for block in blocks)
    with open(path, "wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as f:
        f.write(text.encode("utf-8"))


def make_ewt_sample(root: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    uner = root / "uner-english-ewt"
    for k, (split, size) in enumerate(SIZES.items()):
        ud_path = _existing(root / "ud-english-ewt" / "r2.9" / f"en_ewt-ud-{split}.conllu")
        if split == "train":
            ner_path, ner_name = _existing(uner / "draft-train-not-official" / DRAFT), DRAFT
        else:
            ner_name = f"en_ewt-ud-{split}.iob2"
            ner_path = _existing(uner / ner_name)
        ud_blocks, ner_blocks = _blocks(ud_path), _blocks(ner_path)
        keep = set(sample_split(ud_blocks, ner_blocks, size, np.random.default_rng([SEED, k])))
        _write(dst / f"en_ewt-ud-{split}.conllu.gz", [b for b in ud_blocks if _block_id(b) in keep])
        _write(dst / f"{ner_name}.gz", [b for b in ner_blocks if _block_id(b) in keep])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "root", type=Path, help="data root holding ud-english-ewt/ and uner-english-ewt/"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "data" / "ewt",
        help="output directory (default: the package's data/ewt/ folder)",
    )
    args = parser.parse_args(argv)
    make_ewt_sample(args.root, args.out)
    print(f"EWT sample written to {args.out}")


if __name__ == "__main__":
    main()
