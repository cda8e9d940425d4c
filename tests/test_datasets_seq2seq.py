"""Tests for the seq2seq loaders: the shipped synthetic sample, Multi30K and AESLC.

Multi30K and AESLC are not shipped (non-commercial terms); their tests read
``../shared/data`` next to the repository and are skipped only when it is absent.
"""

import gzip
import shutil
import subprocess
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from skmtl.datasets import load_aeslc, load_multi30k, load_seq2seq_sample
from skmtl.datasets._aeslc import parse_subject_file
from skmtl.datasets._base import sample_dir
from skmtl.datasets._make_seq2seq_sample import _fr_finish, _noun_phrase, make_seq2seq_sample

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
MULTI30K = DATA / "multi30k"
AESLC = DATA / "aeslc"

needs_multi30k = pytest.mark.skipif(
    not MULTI30K.is_dir(), reason=f"Multi30K not found at {MULTI30K} (not shipped: non-commercial)"
)
needs_aeslc = pytest.mark.skipif(
    not AESLC.is_dir(), reason=f"AESLC not found at {AESLC} (not shipped: CC BY-NC-SA)"
)

MULTI30K_SIZES = {
    "train": 29000,
    "val": 1014,
    "test_2016_flickr": 1000,
    "test_2017_flickr": 1000,
    "test_2017_mscoco": 461,
    "test_2018_flickr": 1071,
}
AESLC_SIZES = {"train": 14436, "dev": 1960, "test": 1906}


# --------------------------------------------------------------------------- #
# Shipped synthetic sample
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def sample():
    return {s: load_seq2seq_sample(s) for s in ("train", "test")}


@pytest.mark.parametrize("split, n_trans, n_mail", [("train", 1200, 600), ("test", 150, 75)])
def test_sample_sizes_and_columns(sample, split, n_trans, n_mail):
    data = sample[split]
    assert data.split == split
    assert isinstance(data.text, list) and all(isinstance(t, str) and t for t in data.text)
    assert len(data.text) == n_trans + n_mail
    assert len(set(data.text)) == len(data.text)
    t = data.targets
    assert isinstance(t, pd.DataFrame)
    assert list(t.columns) == ["de", "fr", "subject"]
    assert t.shape == (n_trans + n_mail, 3)
    assert all(t[c].dtype == object for c in t.columns)
    trans = t["de"].notna()
    assert trans.sum() == n_trans and (t["subject"].notna() == ~trans).all()
    assert (t["fr"].notna() == trans).all()
    assert f"{n_trans} translation rows, {n_mail} email rows" in data.DESCR


def test_sample_missing_cells_are_none(sample):
    for data in sample.values():
        for col in data.targets.columns:
            for cell in data.targets[col]:
                assert cell is None or (isinstance(cell, str) and cell.strip() == cell and cell)


def test_sample_splits_disjoint_and_subjects_short(sample):
    assert not set(sample["train"].text) & set(sample["test"].text)
    subjects = sample["train"].targets["subject"].dropna()
    assert subjects.map(lambda s: s == s.lower() and 1 <= len(s.split()) <= 8).all()


def test_sample_bad_split():
    for bad in ("dev", "val", "TRAIN", None):
        with pytest.raises(ValueError, match="split must be one of"):
            load_seq2seq_sample(bad)


def test_sample_regenerates_byte_for_byte(tmp_path):
    paths = make_seq2seq_sample(tmp_path)
    assert sorted(p.name for p in paths) == ["test.tsv", "train.tsv"]
    shipped = sample_dir("seq2seq")
    total = 0
    for name in ("train.tsv", "test.tsv"):
        new, old = (tmp_path / name).read_bytes(), (shipped / name).read_bytes()
        assert new == old, f"{name}: regenerate with python -m skmtl.datasets._make_seq2seq_sample"
        total += len(old)
    assert total < 400_000


@pytest.mark.parametrize(
    "args, expected",
    [
        (("bicycle", "a", ("red",), "acc"),
         ("a red bicycle", "ein rotes Fahrrad", "un vélo rouge")),
        (("man", "a", ("old",), "nom"), ("an old man", "ein alter Mann", "un vieil homme")),
        (("man", "the", (), "nom"), ("the man", "der Mann", "le homme")),  # elided by _fr_finish
        (("boy", "the", ("small",), "dat"),
         ("the small boy", "dem kleinen Jungen", "le petit garçon")),
        (("dog", "a", ("small", "black"), "acc"),
         ("a small black dog", "einen kleinen schwarzen Hund", "un petit chien noir")),
        (("child", "the_pl", (), "dat"), ("the children", "den Kindern", "les enfants")),
        (("woman", "two", ("young",), "nom"),
         ("two young women", "zwei junge Frauen", "deux jeunes femmes")),
        (("car", "the", ("new",), "acc"), ("the new car", "das neue Auto", "la nouvelle voiture")),
    ],
)  # fmt: skip
def test_generator_grammar(args, expected):
    assert _noun_phrase(*args) == expected


def test_generator_french_elision_and_contractions():
    assert _fr_finish(["donne", "une", "pomme", "à", "le", "garçon"]) == "donne une pomme au garçon"
    assert _fr_finish(["à", "le", "homme"]) == "à l'homme"
    assert _fr_finish(["à", "les", "enfants"]) == "aux enfants"
    assert _fr_finish(["la", "enfant"]) == "l'enfant"
    assert _fr_finish(["le", "vieil", "homme"]) == "le vieil homme"


# --------------------------------------------------------------------------- #
# Multi30K
# --------------------------------------------------------------------------- #
def _gzip_dc_lines(path: Path) -> list[str]:
    """The lines of ``gzip -dc path`` (the gzip tool when present, else Python's gzip)."""
    if shutil.which("gzip"):
        out = subprocess.run(["gzip", "-dc", str(path)], check=True, capture_output=True).stdout
    else:  # pragma: no cover
        out = gzip.decompress(path.read_bytes())
    return out.decode("utf-8").split("\n")[:-1]


@needs_multi30k
@pytest.mark.parametrize("split", list(MULTI30K_SIZES))
def test_multi30k_sizes(split):
    data = load_multi30k(MULTI30K, split=split)
    n = MULTI30K_SIZES[split]
    assert data.split == split
    assert len(data.text) == n and data.targets.shape == (n, 2)
    assert list(data.targets.columns) == ["de", "fr"]
    assert data.targets.notna().all().all()  # test_2018 references are in the folder
    assert all(isinstance(s, str) and s for s in data.targets["de"])
    assert "non-commercial" in data.DESCR and "Elliott" in data.DESCR


@needs_multi30k
@pytest.mark.parametrize("tokenized", [False, True])
def test_multi30k_alignment_against_gzip(tokenized):
    data = load_multi30k(MULTI30K, split="train", tokenized=tokenized)
    for lang, column in (("en", data.text), ("de", data.targets["de"]), ("fr", data.targets["fr"])):
        name = f"train.lc.norm.tok.{lang}.gz" if tokenized else f"train.{lang}.gz"
        ref = _gzip_dc_lines(MULTI30K / ("tok" if tokenized else "raw") / name)
        assert len(ref) == 29000
        for i in (0, 1, 2, 14500, 28999):
            assert column[i] == ref[i]
    if not tokenized:
        assert data.text[0] == "Two young, White males are outside near many bushes."
        assert data.targets["de"][0] == (
            "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche."
        )
    else:
        assert data.text[0] == data.text[0].lower()


@needs_multi30k
def test_multi30k_aliases_and_targets():
    dev = load_multi30k(MULTI30K, split="dev", targets="fr")
    assert dev.split == "val" and list(dev.targets.columns) == ["fr"]
    assert dev.text == load_multi30k(MULTI30K, split="val").text
    test = load_multi30k(MULTI30K, split="test", targets=["fr", "de"])
    assert test.split == "test_2016_flickr" and list(test.targets.columns) == ["fr", "de"]
    assert test.text[0] == _gzip_dc_lines(MULTI30K / "raw" / "test_2016_flickr.en.gz")[0]


@needs_multi30k
@pytest.mark.parametrize("bad", ["testing", "test_2016", "TRAIN", None])
def test_multi30k_bad_split(bad):
    with pytest.raises(ValueError, match="split must be one of"):
        load_multi30k(MULTI30K, split=bad)


@pytest.mark.parametrize("bad", [("cs",), (), ("de", "de"), "en"])
def test_multi30k_bad_targets(bad, tmp_path):
    with pytest.raises(ValueError, match="targets"):
        load_multi30k(tmp_path, targets=bad)


def test_multi30k_missing_root(tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(FileNotFoundError, match="shared/data/multi30k") as info:
        load_multi30k(missing)
    assert str(missing) in str(info.value)
    with pytest.raises(FileNotFoundError, match=r"raw/train\.en\.gz"):
        load_multi30k(tmp_path)  # the folder exists, the file does not
    with pytest.raises(TypeError, match="root is required"):
        load_multi30k(None)


def test_multi30k_test2018_without_references(tmp_path):
    (tmp_path / "raw").mkdir()
    with gzip.open(tmp_path / "raw" / "test_2018_flickr.en.gz", "wt", encoding="utf-8") as f:
        f.write("A dog runs.\nTwo cats sleep.\n")
    data = load_multi30k(tmp_path, split="test_2018_flickr")
    assert data.text == ["A dog runs.", "Two cats sleep."]
    assert data.targets.shape == (2, 2)
    assert all(cell is None for col in ("de", "fr") for cell in data.targets[col])
    # other splits need their references
    (tmp_path / "raw" / "val.en.gz").write_bytes(gzip.compress(b"A dog runs.\n"))
    with pytest.raises(FileNotFoundError, match=r"val\.de\.gz"):
        load_multi30k(tmp_path, split="val")


def test_multi30k_misaligned_files(tmp_path):
    (tmp_path / "raw").mkdir()
    for lang, text in (("en", b"a\nb\n"), ("de", b"a\n"), ("fr", b"a\nb\n")):
        (tmp_path / "raw" / f"val.{lang}.gz").write_bytes(gzip.compress(text))
    with pytest.raises(ValueError, match="line-aligned"):
        load_multi30k(tmp_path, split="val")


# --------------------------------------------------------------------------- #
# AESLC
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def aeslc():
    if not AESLC.is_dir():
        pytest.skip(f"AESLC not found at {AESLC} (not shipped: CC BY-NC-SA)")
    return {s: load_aeslc(AESLC, split=s) for s in AESLC_SIZES}


@pytest.mark.parametrize("split", list(AESLC_SIZES))
def test_aeslc_sizes_and_columns(aeslc, split):
    data = aeslc[split]
    n = AESLC_SIZES[split]
    assert data.split == split
    assert len(data.text) == len(data.ids) == n
    assert data.ids == sorted(data.ids) and len(set(data.ids)) == n
    assert list(data.targets.columns) == ["subject"] and data.targets.shape == (n, 1)
    assert list(data.annotations.columns) == ["ann0", "ann1", "ann2"]
    assert data.annotations.shape == (n, 3)
    assert all(isinstance(s, str) and s for s in data.targets["subject"])
    assert all(isinstance(b, str) and b and not b.endswith("\n") for b in data.text)
    if split == "train":
        assert all(c is None for col in data.annotations for c in data.annotations[col])
    else:
        assert all(
            isinstance(c, str) and c for col in data.annotations for c in data.annotations[col]
        )
    assert "CC BY-NC-SA" in data.DESCR


def test_aeslc_first_email_matches_archive(aeslc):
    with tarfile.open(AESLC / "enron_subject_line.test.tar.gz") as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
        raw = tar.extractfile(names[0]).read().decode("utf-8")
    data = aeslc["test"]
    assert data.ids[0] == Path(names[0]).stem == "allen-p_inbox_24"
    body, rest = raw.split("\n\n@subject\n", 1)
    assert data.text[0] == body
    assert data.targets["subject"][0] == rest.split("\n")[0] == "Huntley/question"
    assert data.annotations.iloc[0].tolist() == [
        "phillip, could you please do me a favor?",
        "need to review your title policy's easements section",
        "need copy of title policy",
    ]


def test_aeslc_alias_and_errors(aeslc):
    val = load_aeslc(AESLC, split="val")
    assert val.split == "dev" and val.ids == aeslc["dev"].ids
    for bad in ("validation", "TEST", None):
        with pytest.raises(ValueError, match="split must be one of"):
            load_aeslc(AESLC, split=bad)


def test_aeslc_missing_root(tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(FileNotFoundError, match="shared/data/aeslc") as info:
        load_aeslc(missing)
    assert str(missing) in str(info.value)
    with pytest.raises(FileNotFoundError, match=r"enron_subject_line\.dev\.tar\.gz"):
        load_aeslc(tmp_path, split="dev")
    with pytest.raises(TypeError, match="root is required"):
        load_aeslc(None)


def test_parse_subject_file():
    text = "Hi,\nSee you at 3.\n\n@subject\nMeeting\n\n@ann0\nmeeting at 3\n\n@ann1\nm\n\n@ann2\nx"
    assert parse_subject_file(text) == {
        "body": "Hi,\nSee you at 3.",
        "subject": "Meeting",
        "ann0": "meeting at 3",
        "ann1": "m",
        "ann2": "x",
    }
    train = parse_subject_file("Body line.\n\n@subject\nRe: budget")
    assert train == {"body": "Body line.", "subject": "Re: budget", "ann0": None, "ann1": None,
                     "ann2": None}  # fmt: skip
    with pytest.raises(ValueError, match="@subject"):
        parse_subject_file("no markers here")
