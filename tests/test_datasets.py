"""Tests for skmtl.datasets (shipped samples and, when present, the full data)."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skmtl.datasets import load_emobank, load_goemotions
from skmtl.datasets._base import sample_dir

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = Path(os.environ.get("SKMTL_DATA", REPO.parent / "shared" / "data"))
GOEMOTIONS_DIR = DATA_ROOT / "goemotions"
EMOBANK_DIR = DATA_ROOT / "emobank"

needs_full_goemotions = pytest.mark.skipif(
    not (GOEMOTIONS_DIR / "train.tsv").is_file(),
    reason=f"full GoEmotions data not found at {GOEMOTIONS_DIR} (set SKMTL_DATA)",
)
needs_full_emobank = pytest.mark.skipif(
    not (EMOBANK_DIR / "emobank.csv").is_file(),
    reason=f"full EmoBank data not found at {EMOBANK_DIR} (set SKMTL_DATA)",
)

EMOTIONS = [
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion",
    "curiosity", "desire", "disappointment", "disapproval", "disgust", "embarrassment",
    "excitement", "fear", "gratitude", "grief", "joy", "love", "nervousness", "optimism",
    "pride", "realization", "relief", "remorse", "sadness", "surprise", "neutral",
]  # fmt: skip
EKMAN = ["anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"]
SENTIMENT = ["positive", "negative", "ambiguous", "neutral"]

# (comment id, emotion, ekman, sentiment) for rows of the shipped train sample.
KNOWN_GOEMOTIONS = [
    ("ed2wzm6", ("grief", "neutral"), ("neutral", "sadness"), ("negative", "neutral")),
    ("ee5hkwt", ("admiration", "curiosity"), ("joy", "surprise"), ("ambiguous", "positive")),
    ("ef4qmod", ("desire", "optimism"), ("joy",), ("positive",)),
    ("edjs9fy", ("realization",), ("surprise",), ("ambiguous",)),
    ("eeoi9xo", ("annoyance", "neutral"), ("anger", "neutral"), ("negative", "neutral")),
    ("ed1qbx1", ("anger",), ("anger",), ("negative",)),
]

SAMPLE_SIZES_GO = {"train": 3000, "dev": 600, "test": 600}
SAMPLE_SIZES_EB = {"train": 1500, "dev": 300, "test": 300}


def check_goemotions_bunch(data, n=None):
    assert isinstance(data.text, list) and all(isinstance(t, str) for t in data.text)
    assert isinstance(data.ids, list) and all(isinstance(i, str) for i in data.ids)
    assert len(data.ids) == len(set(data.ids))
    if n is not None:
        assert len(data.text) == n
    assert isinstance(data.targets, pd.DataFrame)
    assert list(data.targets.columns) == ["emotion", "ekman", "sentiment"]
    assert data.targets.shape == (len(data.text), 3)
    assert data.emotion_names == EMOTIONS
    assert data.ekman_names == EKMAN
    assert data.sentiment_names == SENTIMENT
    for col, names in [
        ("emotion", data.emotion_names),
        ("ekman", data.ekman_names),
        ("sentiment", data.sentiment_names),
    ]:
        cells = data.targets[col]
        assert all(isinstance(c, tuple) and len(c) >= 1 for c in cells)
        assert all(list(c) == sorted(set(c)) for c in cells)
        used = {lab for c in cells for lab in c}
        assert used <= set(names)
    # neutral is its own label in every task, consistently.
    for emo, ekm, sen in data.targets.itertuples(index=False):
        assert ("neutral" in emo) == ("neutral" in ekm) == ("neutral" in sen)
    assert "GoEmotions" in data.DESCR


def check_emobank_bunch(data, n=None):
    assert isinstance(data.text, list) and all(isinstance(t, str) for t in data.text)
    assert isinstance(data.ids, list) and len(data.ids) == len(set(data.ids))
    if n is not None:
        assert len(data.text) == n
    assert list(data.targets.columns) == ["V", "A", "D"]
    assert data.targets.shape == (len(data.text), 3)
    assert all(dt == np.float64 for dt in data.targets.dtypes)
    assert not data.targets.isna().any().any()
    values = data.targets.to_numpy()
    assert values.min() >= 1.0 and values.max() <= 5.0
    assert "EmoBank" in data.DESCR


# --------------------------------------------------------------------------- samples
@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_goemotions_sample(split):
    data = load_goemotions(split=split)
    check_goemotions_bunch(data, SAMPLE_SIZES_GO[split])
    # The sample is drawn so that every emotion occurs at least 5 times per split.
    counts = pd.Series([lab for c in data.targets["emotion"] for lab in c]).value_counts()
    assert set(counts.index) == set(EMOTIONS)
    assert counts.min() >= 5


def test_goemotions_known_rows():
    data = load_goemotions(split="train")
    by_id = dict(zip(data.ids, range(len(data.ids)), strict=True))
    for cid, emo, ekm, sen in KNOWN_GOEMOTIONS:
        row = data.targets.iloc[by_id[cid]]
        assert row["emotion"] == emo
        assert row["ekman"] == ekm
        assert row["sentiment"] == sen


def test_goemotions_mapping_matches_files():
    data = load_goemotions()
    root = sample_dir("goemotions")
    ekman = json.loads((root / "ekman_mapping.json").read_text())
    sentiment = json.loads((root / "sentiment_dict.json").read_text())
    inv_ekman = {e: g for g, members in ekman.items() for e in members}
    inv_sent = {e: g for g, members in sentiment.items() for e in members}
    assert "neutral" not in inv_ekman and "neutral" not in inv_sent  # why we add it ourselves
    for emo, ekm, sen in data.targets.itertuples(index=False):
        assert set(ekm) == {inv_ekman.get(e, "neutral") for e in emo}
        assert set(sen) == {inv_sent.get(e, "neutral") for e in emo}


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_emobank_sample(split):
    data = load_emobank(split=split)
    check_emobank_bunch(data, SAMPLE_SIZES_EB[split])


def test_emobank_known_row():
    data = load_emobank(split="test")
    i = data.ids.index("110CYL068_1079_1110")
    assert data.text[i] == "If I wasn't working here."
    np.testing.assert_allclose(data.targets.iloc[i].to_numpy(), [2.8, 3.1, 2.8])


def test_samples_are_disjoint_across_splits():
    go = [set(load_goemotions(split=s).ids) for s in ("train", "dev", "test")]
    eb = [set(load_emobank(split=s).ids) for s in ("train", "dev", "test")]
    for sets in (go, eb):
        assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("loader", [load_goemotions, load_emobank])
@pytest.mark.parametrize("split", ["validation", "val", "TRAIN", "", None, 0])
def test_bad_split(loader, split):
    with pytest.raises(ValueError, match="split must be one of"):
        loader(split=split)


def test_goemotions_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="train.tsv"):
        load_goemotions(tmp_path / "nope")
    # A directory with the TSVs but without the mapping files names what is missing.
    shutil.copyfile(sample_dir("goemotions") / "dev.tsv", tmp_path / "dev.tsv")
    with pytest.raises(FileNotFoundError, match="ekman_mapping.json"):
        load_goemotions(tmp_path, split="dev")


def test_emobank_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="emobank.csv"):
        load_emobank(tmp_path)


def test_goemotions_bad_label_id(tmp_path):
    root = sample_dir("goemotions")
    for name in ("emotions.txt", "ekman_mapping.json", "sentiment_dict.json"):
        shutil.copyfile(root / name, tmp_path / name)
    (tmp_path / "test.tsv").write_text("some text\t3,28\tabc\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad emotion ids"):
        load_goemotions(tmp_path, split="test")


def test_explicit_sample_path_equals_default():
    a = load_goemotions(sample_dir("goemotions"), split="dev")
    b = load_goemotions(split="dev")
    assert a.ids == b.ids and a.text == b.text
    pd.testing.assert_frame_equal(a.targets, b.targets)
    c = load_emobank(sample_dir("emobank") / "emobank.csv", split="dev")
    d = load_emobank(split="dev")
    assert c.ids == d.ids
    pd.testing.assert_frame_equal(c.targets, d.targets)


# --------------------------------------------------------------------------- full data
@needs_full_goemotions
@pytest.mark.parametrize("split,n", [("train", 43410), ("dev", 5426), ("test", 5427)])
def test_goemotions_full(split, n):
    data = load_goemotions(GOEMOTIONS_DIR, split=split)
    check_goemotions_bunch(data, n)
    assert "neutral" in {lab for c in data.targets["emotion"] for lab in c}


@needs_full_goemotions
def test_goemotions_sample_agrees_with_full():
    full = load_goemotions(GOEMOTIONS_DIR, split="train")
    sample = load_goemotions(split="train")
    assert full.emotion_names == sample.emotion_names
    assert full.ekman_names == sample.ekman_names
    assert full.sentiment_names == sample.sentiment_names
    pos = {cid: i for i, cid in enumerate(full.ids)}
    idx = [pos[cid] for cid in sample.ids]  # every sampled row exists in the full split
    assert idx == sorted(idx)  # upstream order kept
    assert [full.text[i] for i in idx] == sample.text
    expected = full.targets.iloc[idx].reset_index(drop=True)
    pd.testing.assert_frame_equal(expected, sample.targets)


@needs_full_emobank
@pytest.mark.parametrize("split,n", [("train", 8062), ("dev", 1000), ("test", 1000)])
def test_emobank_full(split, n):
    data = load_emobank(EMOBANK_DIR, split=split)
    check_emobank_bunch(data, n)


@needs_full_emobank
def test_emobank_sample_agrees_with_full():
    full = load_emobank(EMOBANK_DIR, split="train")
    sample = load_emobank(split="train")
    pos = {cid: i for i, cid in enumerate(full.ids)}
    idx = [pos[cid] for cid in sample.ids]
    assert idx == sorted(idx)
    assert [full.text[i] for i in idx] == sample.text
    expected = full.targets.iloc[idx].reset_index(drop=True)
    pd.testing.assert_frame_equal(expected, sample.targets)
    # A literal "None" sentence in the dev split stays a string, not NaN.
    dev = load_emobank(EMOBANK_DIR, split="dev")
    assert dev.text[dev.ids.index("easy_money_13624_13628")] == "None"


@needs_full_goemotions
@needs_full_emobank
def test_make_samples_is_reproducible(tmp_path):
    from skmtl.datasets import _make_samples

    _make_samples.main([str(DATA_ROOT), "--out", str(tmp_path)])
    for rel in [
        "goemotions/train.tsv",
        "goemotions/dev.tsv",
        "goemotions/test.tsv",
        "goemotions/emotions.txt",
        "goemotions/ekman_mapping.json",
        "goemotions/sentiment_dict.json",
        "emobank/emobank.csv",
    ]:
        shipped = (sample_dir(rel.split("/")[0]) / rel.split("/")[1]).read_bytes()
        assert (tmp_path / rel).read_bytes() == shipped, rel
