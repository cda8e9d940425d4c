"""Tests of the raw-text encoder spec (TextEncoder) and its tokenized batches."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from skmtl.encoders import _tokenize
from skmtl.encoders._text import TextEncoder, TextEncoderModule
from skmtl.encoders._tokenize import N_CHARS, N_HASHES, TokenizedTexts, load_tokenizer

TINY = {"embed_dim": 8, "width": 16, "depth": 1, "n_rows": 500, "dropout": 0.0}
ARCHS = ["cnn", "bilstm", "transformer"]
TEXTS = ["A good film.", "Bad, really bad!", "", "The plot was okay I guess, not great"]


@pytest.fixture
def enc():
    return TextEncoder(**TINY)


# -- prepare / take / batch ---------------------------------------------------------


def test_prepare_shapes(enc):
    tokens = enc.prepare(TEXTS)
    assert isinstance(tokens, TokenizedTexts)
    assert len(tokens) == 4
    assert tokens.lengths.tolist() == [4, 5, 0, 9]
    assert tokens.offsets.tolist() == [0, 4, 9, 9, 18]
    assert tokens.ids.dtype == np.int64 and tokens.offsets.dtype == np.int64
    assert tokens.ids.shape == (18, 4, N_HASHES)
    assert tokens.ids.min() >= 0 and tokens.ids.max() < 500
    assert tokens.chars is None


def test_take_keeps_given_order_and_contents(enc):
    tokens = enc.prepare(TEXTS)
    sub = tokens.take([3, 0, 2, 0])
    assert sub.lengths.tolist() == [9, 4, 0, 4]
    np.testing.assert_array_equal(sub.ids[:9], tokens.ids[9:18])
    np.testing.assert_array_equal(sub.ids[9:13], tokens.ids[0:4])
    np.testing.assert_array_equal(sub.ids[13:], tokens.ids[0:4])
    assert len(tokens.take([])) == 0
    assert tokens.take(np.array([True, False, False, True])).lengths.tolist() == [4, 9]
    assert tokens.take([-1]).lengths.tolist() == [9]
    with pytest.raises(IndexError):
        tokens.take([4])


def test_batch_padding(enc):
    tokens = enc.prepare(TEXTS)
    batch = enc.batch(tokens, 0, 4)
    assert set(batch) == {"ids", "mask"}
    assert batch["ids"].dtype == torch.long and batch["mask"].dtype == torch.bool
    assert batch["ids"].shape == (4, 9, 4, N_HASHES)
    assert batch["mask"].sum(1).tolist() == [4, 5, 0, 9]
    assert bool(batch["mask"][0, :4].all()) and not bool(batch["mask"][0, 4:].any())
    assert int(batch["ids"][0, 4:].abs().sum()) == 0
    np.testing.assert_array_equal(batch["ids"][1, :5].numpy(), tokens.ids[4:9])
    # a slice of empty documents still has one (masked) position
    empty = enc.batch(tokens, 2, 3)
    assert empty["ids"].shape == (1, 1, 4, N_HASHES) and not bool(empty["mask"].any())
    # the slice of a shuffled take
    shuffled = enc.batch(tokens.take([3, 1]), 0, 2)
    np.testing.assert_array_equal(shuffled["ids"][1, :5].numpy(), batch["ids"][1, :5].numpy())


def test_char_features():
    enc = TextEncoder(char_dim=4, **TINY)
    tokens = enc.prepare(["Hi there", "élan"])
    assert tokens.chars.shape == (3, N_CHARS)
    first, last = tokens.chars[:, : N_CHARS // 2], tokens.chars[:, N_CHARS // 2 :]
    assert (first[0, 2:] == 0).all() and (first[0, :2] > 0).all()  # "Hi": 2 chars
    assert (last[0, :2] == 0).all() and (last[0, 2:] == first[0, :2]).all()  # "Hi" at the end
    assert first[1, 1] == last[1, 0] and first[1, 2] == last[1, 3]  # t[h][e]re, t[h]er[e]
    assert first[1, 0] != first[1, 1]
    np.testing.assert_array_equal(first[2], last[2])  # "élan" has exactly 4 chars
    batch = enc.batch(tokens, 0, 2)
    assert batch["chars"].shape == (2, 2, N_CHARS)
    out = enc.build_module()(batch)
    assert out.shape == (2, 16) and torch.isfinite(out).all()


def test_pandas_and_ndarray_inputs(enc):
    expected = enc.prepare(TEXTS).ids
    np.testing.assert_array_equal(enc.prepare(pd.Series(TEXTS, index=[5, 6, 7, 8])).ids, expected)
    np.testing.assert_array_equal(enc.prepare(np.array(TEXTS, dtype=object)).ids, expected)
    np.testing.assert_array_equal(enc.prepare(np.array(TEXTS)).ids, expected)
    np.testing.assert_array_equal(enc.prepare(pd.DataFrame({"t": TEXTS})).ids, expected)


# -- stable hashing ------------------------------------------------------------------


def test_same_word_same_ids_across_calls_and_docs(enc):
    a = enc.prepare(["good"]).ids[0]
    b = enc.prepare(["this is good"]).ids[2]
    np.testing.assert_array_equal(a, b)
    assert enc.prepare(["bad"]).ids[0, 0].tolist() != a[0].tolist()


# The child loads _tokenize.py alone (no torch import: faster), with another str-hash salt.
_CHILD = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("tok", sys.argv[1])
tok = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tok)
tokens = tok.tokenize(
    ["Stable hashing, unseen zxqwv!"], tok.load_tokenizer("blank:en"),
    attrs=("norm", "prefix", "suffix", "shape"), n_rows=5000, max_length=256,
)
print(tokens.ids.tolist())
"""


def test_ids_are_stable_across_processes():
    here = TextEncoder(n_rows=5000).prepare(["Stable hashing, unseen zxqwv!"]).ids.tolist()
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, _tokenize.__file__],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        timeout=120,
    ).stdout
    assert eval(out) == here
    # and across library versions: spaCy's 64-bit string hashes + splitmix64 seeds
    assert here[0][0] == [344, 1439, 1386, 4885]


def test_unseen_words_get_valid_ids(enc):
    tokens = enc.prepare(["qwxzzyv blorptastic 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ☃☃☃ 12345678901234567890"])
    assert tokens.n_tokens >= 5
    assert tokens.ids.min() >= 0 and tokens.ids.max() < enc.n_rows


# -- input validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, kind",
    [(None, "NoneType"), (float("nan"), "float"), (np.nan, "float"), (3, "int"), (b"x", "bytes")],
)
def test_bad_items_name_the_row(enc, bad, kind):
    with pytest.raises(ValueError, match=rf"X\[1\].*{kind}"):
        enc.prepare(["fine", bad, "fine"])


def test_pandas_missing_values_name_the_row(enc):
    with pytest.raises(ValueError, match=r"X\[2\]"):
        enc.prepare(pd.Series(["a", "b", None]))
    with pytest.raises(ValueError, match=r"X\[0\]"):
        enc.prepare(pd.Series([pd.NA, "b"], dtype="string"))


def test_single_string_and_empty_inputs_raise(enc):
    with pytest.raises(ValueError, match="single str"):
        enc.prepare("just one text")
    with pytest.raises(ValueError, match="no documents"):
        enc.prepare([])
    with pytest.raises(ValueError, match="1-D"):
        enc.prepare(np.array([["a", "b"], ["c", "d"]]))


@pytest.mark.parametrize(
    "params, match",
    [
        (
            {"architecture": "gru"},
            r"architecture must be one of \['cnn', 'bilstm', 'transformer'\]",
        ),
        ({"pooling": "sum"}, r"pooling must be one of \['mean', 'max', 'mean\+max'\]"),
        ({"attrs": ("norm", "lemma")}, "attrs"),
        ({"width": 0}, "width"),
        ({"dropout": 1.0}, "dropout"),
        ({"architecture": "transformer", "width": 10, "n_heads": 4}, "multiple of n_heads"),
        ({"static_vectors": "yes"}, "static_vectors must be a bool"),
    ],
)
def test_bad_params_raise_in_prepare_and_build(params, match):
    enc = TextEncoder(**params)  # __init__ validates nothing
    with pytest.raises(ValueError, match=match):
        enc.prepare(["x"])
    with pytest.raises(ValueError, match=match):
        enc.build_module()


def test_missing_pipeline_has_install_hint():
    with pytest.raises(ValueError, match="spacy download"):
        load_tokenizer("xx_no_such_pipeline_sm")


def test_batch_checks_settings(enc):
    tokens = enc.prepare(["a b"])
    with pytest.raises(ValueError, match="prepare"):
        clone(enc).set_params(n_rows=7).batch(tokens, 0, 1)


# -- long and empty texts ------------------------------------------------------------


def test_empty_and_very_long_texts_end_to_end():
    enc = TextEncoder(max_length=64, **TINY)
    huge = "word, " * 350_000  # 2.1M characters
    tokens = enc.prepare(["", huge, "a" * 2_000_000, "!" * 2_000_000, " " * 2_000_000])
    assert tokens.lengths.tolist()[:4] == [0, 64, 64, 64]
    module = enc.build_module()
    out = module(enc.batch(tokens, 0, len(tokens)))
    assert out.shape == (5, 16) and torch.isfinite(out).all()
    assert out[0].abs().sum() == 0


def test_cut_long_text_matches_full_tokenization():
    rng = np.random.RandomState(0)
    words = ["Hello,", "world!", "(it's)", "U.S.A.", "e-mail", "x@y.com", "3.5", "...", "don't"]
    text = " ".join(rng.choice(words, size=3000)) + "\n\n"
    enc = TextEncoder(max_length=80, **TINY)
    got = enc.prepare([text]).ids
    full = enc.set_params(max_length=100_000).prepare([text]).ids[:80]
    np.testing.assert_array_equal(got, full)


# -- the torch module ----------------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("pooling", ["mean", "max", "mean+max"])
def test_module_forward_shapes(arch, pooling):
    torch.manual_seed(0)
    enc = TextEncoder(architecture=arch, pooling=pooling, **{**TINY, "depth": 2})
    module = enc.build_module()
    assert isinstance(module, TextEncoderModule)
    assert module.out_features == (32 if pooling == "mean+max" else 16)
    batch = enc.batch(enc.prepare(TEXTS), 0, 4)
    out = module(batch)
    assert out.shape == (4, module.out_features) and torch.isfinite(out).all()
    assert out[2].abs().sum() == 0  # the empty document pools to zeros
    tokens = module(batch, pool=False)
    assert tokens.shape == (4, 9, module.token_features)
    assert tokens[~batch["mask"]].abs().sum() == 0
    out.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in module.parameters() if p.grad is not None)


@pytest.mark.parametrize("arch", ARCHS)
def test_padding_does_not_change_a_document(arch):
    torch.manual_seed(0)
    enc = TextEncoder(architecture=arch, pooling="mean+max", window=2, **{**TINY, "depth": 2})
    module = enc.build_module().eval()
    short, long = "a short one", "a much longer document that forces a lot of padding here"
    alone = module(enc.batch(enc.prepare([short]), 0, 1))
    together = module(enc.batch(enc.prepare([long, short, ""]), 0, 3))
    torch.testing.assert_close(together[1], alone[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("arch", ["cnn", "bilstm"])
def test_tiny_training_separates_two_classes(arch):
    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    fillers = ["the movie was", "i found it", "overall", "that plot is", "acting:", "so"]
    texts = [f"{rng.choice(fillers)} {'good' if i % 2 else 'bad'} indeed" for i in range(40)]
    y = torch.tensor([i % 2 for i in range(40)])
    enc = TextEncoder(architecture=arch, **TINY)
    tokens = enc.prepare(texts)
    module = enc.build_module()
    head = torch.nn.Linear(module.out_features, 2)
    params = list(module.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=0.01)
    batch = enc.batch(tokens, 0, len(tokens))
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(module(batch)), y)
        loss.backward()
        opt.step()
    module.eval()
    with torch.no_grad():
        test = enc.prepare(["so good", "so bad", "i found it good overall", "acting: bad"])
        pred = head(module(enc.batch(test, 0, 4))).argmax(1)
    assert pred.tolist() == [1, 0, 1, 0]
    assert loss.item() < 0.1


# -- sklearn protocol ---------------------------------------------------------------


def test_pickle_excludes_the_nlp_object(enc):
    enc.prepare(["warm the tokenizer cache"])
    assert "_nlp" in vars(enc)
    blob = pickle.dumps(enc)
    assert b"spacy" not in blob and len(blob) < 2000
    restored = pickle.loads(blob)
    assert restored.get_params() == enc.get_params()
    np.testing.assert_array_equal(restored.prepare(["same ids"]).ids, enc.prepare(["same ids"]).ids)


def test_tokenized_texts_pickle(enc):
    tokens = pickle.loads(pickle.dumps(enc.prepare(TEXTS)))
    assert tokens.lengths.tolist() == [4, 5, 0, 9] and tokens.attrs == enc.attrs


def test_clone(enc):
    enc.prepare(["x"])
    twin = clone(enc)
    assert twin.get_params() == enc.get_params()
    assert "_nlp" not in vars(twin)
    assert clone(TextEncoder(architecture="nope")).architecture == "nope"


# -- static vectors --------------------------------------------------------------------

VEC_DIM = 6
VOCAB = {"good": 1.0, "bad": -1.0, "film": 0.5}


def _vectors_pipeline():
    """A blank English tokenizer with a few hand-set word vectors."""
    import spacy

    nlp = spacy.blank("en")
    for i, (word, value) in enumerate(VOCAB.items()):
        vec = np.full(VEC_DIM, value, dtype=np.float32)
        vec[i] += 3.0
        nlp.vocab.set_vector(word, vec)
    return nlp


@pytest.fixture
def fake_vectors(monkeypatch):
    from skmtl.encoders import _text

    real = _text.load_tokenizer
    monkeypatch.setattr(
        _text,
        "load_tokenizer",
        lambda name: _vectors_pipeline() if name == "fake_vectors" else real(name),
    )
    return TextEncoder(tokenizer="fake_vectors", static_vectors=True, **TINY)


def test_static_vector_rows_and_oov(fake_vectors):
    tokens = fake_vectors.prepare(["A good film.", "", "Good bad zzz"])
    table = fake_vectors._get_nlp().vocab.vectors
    row = {w: int(table.find(key=w)) for w in VOCAB}
    # exact-text lookup, like token.vector: "A", ".", "Good" (capitalised), "zzz" have none
    assert tokens.vector_rows.tolist() == [-1, row["good"], row["film"], -1, -1, row["bad"], -1]
    sub = tokens.take([2, 0])
    assert sub.vector_rows.tolist() == [-1, row["bad"], -1, -1, row["good"], row["film"], -1]
    assert pickle.loads(pickle.dumps(sub)).vector_rows.tolist() == sub.vector_rows.tolist()
    batch = fake_vectors.batch(tokens, 0, 3)
    assert set(batch) == {"ids", "mask", "vector_rows"}
    assert batch["vector_rows"].shape == (3, 4) and batch["vector_rows"].dtype == torch.long
    assert batch["vector_rows"][1].tolist() == [-1] * 4  # padding is -1
    assert batch["vector_rows"][2, :3].tolist() == [-1, row["bad"], -1]
    # tokens without vectors cannot be batched by an encoder that wants them, and back
    plain = TextEncoder(**TINY)
    with pytest.raises(ValueError, match="static_vectors"):
        plain.batch(tokens, 0, 1)
    with pytest.raises(ValueError, match="static_vectors"):
        fake_vectors.batch(plain.prepare(["good"]), 0, 1)


def test_static_vectors_module_is_frozen_and_used(fake_vectors):
    torch.manual_seed(0)
    tokens = fake_vectors.prepare(["a good film", "bad", ""])
    module = fake_vectors.build_module()
    table = module.embed.vectors
    nlp_table = fake_vectors._get_nlp().vocab.vectors.data
    assert table.shape == (nlp_table.shape[0] + 1, VEC_DIM)  # + the zero row for "no vector"
    np.testing.assert_array_equal(table[:-1].numpy(), nlp_table)
    assert not table[-1].any()
    assert all(p is not table for p in module.parameters())
    # a build-time constant, not learned state
    assert not any("vectors" in key for key in module.state_dict())
    before = table.clone()
    batch = fake_vectors.batch(tokens, 0, 3)
    opt = torch.optim.AdamW(module.parameters(), lr=0.1, weight_decay=0.1)
    module(batch).pow(2).sum().backward()
    opt.step()
    torch.testing.assert_close(module.embed.vectors, before, rtol=0, atol=0)
    # the vectors change the output: the same ids without their vector rows differ
    module.eval()
    out = module(batch)
    no_vectors = dict(batch, vector_rows=torch.full_like(batch["vector_rows"], -1))
    assert not torch.allclose(out[:2], module(no_vectors)[:2])
    assert out[2].abs().sum() == 0  # the empty document still pools to zeros
    # and a module without static vectors gives other outputs on the same texts
    torch.manual_seed(0)
    plain = clone(fake_vectors).set_params(static_vectors=False)
    plain_out = plain.build_module().eval()(plain.batch(plain.prepare(["a good film"]), 0, 1))
    assert plain_out.shape == out[:1].shape and not torch.allclose(plain_out, out[:1])


@pytest.mark.parametrize("arch", ARCHS)
def test_static_vectors_all_architectures_train(fake_vectors, arch):
    torch.manual_seed(0)
    enc = fake_vectors.set_params(architecture=arch)
    module = enc.build_module()
    out = module(enc.batch(enc.prepare(TEXTS), 0, 4))
    assert out.shape == (4, 16) and torch.isfinite(out).all()
    out.sum().backward()


def test_static_vectors_pickle_spec_and_module(fake_vectors):
    tokens = fake_vectors.prepare(["good film", "bad"])
    torch.manual_seed(0)
    module = fake_vectors.build_module().eval()
    expected = module(fake_vectors.batch(tokens, 0, 2))
    # the spec pickles without the spaCy pipeline (nor its vectors)
    blob = pickle.dumps(fake_vectors)
    assert b"spacy" not in blob and len(blob) < 2000
    restored = pickle.loads(blob)
    assert restored.get_params() == fake_vectors.get_params()
    # the module carries its own copy of the table: no spaCy needed to run it
    module_blob = pickle.dumps(module)
    assert b"spacy" not in module_blob
    twin = pickle.loads(module_blob)
    torch.testing.assert_close(twin.embed.vectors, module.embed.vectors)
    torch.testing.assert_close(twin(fake_vectors.batch(tokens, 0, 2)), expected)


def test_static_vectors_need_a_pipeline_with_vectors():
    enc = TextEncoder(static_vectors=True, **TINY)
    with pytest.raises(ValueError, match=r"'blank:en' has no word vectors.*en_core_web_md"):
        enc.prepare(["x"])
    with pytest.raises(ValueError, match="has no word vectors"):
        enc.build_module()
