"""Regenerate the data samples shipped in ``skmtl/datasets/data/``.

Not imported by the package. Usage::

    python -m skmtl.datasets._make_samples /path/to/data-root [--out DIR]

``data-root`` must contain ``goemotions/`` (upstream ``train.tsv``, ``dev.tsv``,
``test.tsv``, ``emotions.txt``, ``ekman_mapping.json``, ``sentiment_dict.json``)
and ``emobank/`` (upstream ``emobank.csv`` and ``meta.tsv``).

How the samples are drawn (deterministic, ``SEED = 0``):

- GoEmotions, per split (3000 train / 600 dev / 600 test): going through the
  28 emotions from rarest to most frequent, add random rows carrying that
  emotion until it occurs at least ``MIN_PER_LABEL`` times (20 train, 5 dev/test)
  in the sample, then fill up with uniformly random rows. Rows keep their
  upstream order and bytes (same TSV format).
- EmoBank, per upstream split (1500 train / 300 dev / 300 test): a random
  sample stratified by genre (``category`` in ``meta.tsv``), rows kept in
  upstream order, written in the upstream CSV format (header
  ``id,split,V,A,D,text``).
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

import numpy as np

SEED = 0
GOEMOTIONS_SIZES = {"train": 3000, "dev": 600, "test": 600}
MIN_PER_LABEL = {"train": 20, "dev": 5, "test": 5}
EMOBANK_SIZES = {"train": 1500, "dev": 300, "test": 300}
GOEMOTIONS_MAPPINGS = ["emotions.txt", "ekman_mapping.json", "sentiment_dict.json"]


def _sample_goemotions_split(lines, size, min_per_label, rng):
    label_sets = [set(line.rstrip("\n").split("\t")[1].split(",")) for line in lines]
    n = len(lines)
    labels = sorted({lab for s in label_sets for lab in s})
    freq = {lab: sum(lab in s for s in label_sets) for lab in labels}
    chosen: set[int] = set()
    for lab in sorted(labels, key=lambda lab: (freq[lab], int(lab))):
        have = sum(lab in label_sets[i] for i in chosen)
        if have >= min_per_label:
            continue
        pool = [i for i in range(n) if lab in label_sets[i] and i not in chosen]
        take = min(min_per_label - have, len(pool))
        chosen.update(int(i) for i in rng.choice(pool, size=take, replace=False))
    rest = np.array([i for i in range(n) if i not in chosen])
    need = max(size - len(chosen), 0)
    chosen.update(int(i) for i in rng.choice(rest, size=min(need, len(rest)), replace=False))
    return sorted(chosen)


def make_goemotions(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for k, (split, size) in enumerate(GOEMOTIONS_SIZES.items()):
        with open(src / f"{split}.tsv", encoding="utf-8", newline="") as f:
            lines = f.readlines()
        rng = np.random.default_rng([SEED, k])
        idx = _sample_goemotions_split(lines, size, MIN_PER_LABEL[split], rng)
        with open(dst / f"{split}.tsv", "w", encoding="utf-8", newline="") as f:
            f.writelines(lines[i] for i in idx)
    for name in GOEMOTIONS_MAPPINGS:
        shutil.copyfile(src / name, dst / name)


def make_emobank(src: Path, dst: Path) -> None:
    from sklearn.model_selection import train_test_split

    dst.mkdir(parents=True, exist_ok=True)
    with open(src / "meta.tsv", encoding="utf-8", newline="") as f:
        genre = {row["id"]: row["category"] for row in csv.DictReader(f, delimiter="\t")}
    with open(src / "emobank.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header == ["id", "split", "V", "A", "D", "text"], header
    keep: set[int] = set()
    for k, (split, size) in enumerate(EMOBANK_SIZES.items()):
        idx = [i for i, r in enumerate(body) if r[1] == split]
        strata = [genre.get(body[i][0], "unknown") for i in idx]
        picked, _ = train_test_split(idx, train_size=size, stratify=strata, random_state=SEED + k)
        keep.update(picked)
    with open(dst / "emobank.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(body[i] for i in sorted(keep))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="data root holding goemotions/ and emobank/")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "data",
        help="output directory (default: the package's data/ folder)",
    )
    args = parser.parse_args(argv)
    make_goemotions(args.root / "goemotions", args.out / "goemotions")
    make_emobank(args.root / "emobank", args.out / "emobank")
    print(f"samples written to {args.out}")


if __name__ == "__main__":
    main()
