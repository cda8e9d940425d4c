"""The caller's data is never changed, and bad values are named, not silently mangled."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.sparse as sp

from skmtl import MultiTaskClassifier
from skmtl.encoders import TextEncoder, check_texts, check_tokens, prepare_features, tokenize_words

TINY_TEXT = {"embed_dim": 8, "width": 16, "depth": 1, "n_rows": 500, "dropout": 0.0}


def _unsorted_csr(dtype=np.float64):
    rng = np.random.RandomState(0)
    A = sp.random(40, 6, density=0.5, format="csr", random_state=rng, dtype=np.float64)
    A = A[:, [5, 3, 1, 0, 2, 4]]
    A = sp.csr_matrix((A.data.astype(dtype), A.indices, A.indptr), shape=A.shape)
    assert not A.has_sorted_indices
    return A


def _arrays(A):
    return [A.data.copy(), A.indices.copy(), A.indptr.copy()]


def _assert_unchanged(A, before):
    for got, want in zip([A.data, A.indices, A.indptr], before, strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


# -- unsorted CSR: sorted in a copy -------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_prepare_features_does_not_sort_the_callers_csr(dtype):
    A = _unsorted_csr(dtype)
    before = _arrays(A)
    out = prepare_features(A)
    _assert_unchanged(A, before)
    assert out.has_sorted_indices and out.dtype == np.float32
    np.testing.assert_array_equal(out.toarray(), A.toarray().astype(np.float32))
    # the sorted arrays are not the caller's
    assert not np.shares_memory(out.indices, A.indices)
    assert not np.shares_memory(out.data, A.data)


def test_fit_and_predict_leave_an_unsorted_csr_unchanged():
    A = _unsorted_csr()
    dense = A.toarray()
    Y = np.column_stack([dense[:, 0] > 0.3, dense[:, 1] > 0.3]).astype(int)
    before = _arrays(A)
    model = MultiTaskClassifier(hidden_layer_sizes=(4,), max_epochs=2, random_state=0)
    model.fit(A, Y)
    _assert_unchanged(A, before)
    first = model.predict_proba(A)
    _assert_unchanged(A, before)
    second = model.predict_proba(A)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    # and the sparse model is the dense one
    for a, b in zip(first, model.predict_proba(dense), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


# -- values beyond float32 ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", [None, "csr", "csc", "coo"])
def test_values_overflowing_float32_are_rejected(fmt):
    X = np.zeros((3, 2))
    X[1, 1] = -1e300
    if fmt is not None:
        X = sp.csr_matrix(X).asformat(fmt)
    with pytest.raises(ValueError, match=r"overflow float32 \(max \|x\| = 1e\+300.*scale X"):
        prepare_features(X)


def test_fit_rejects_values_overflowing_float32():
    X = np.random.RandomState(0).normal(size=(20, 3))
    X[4, 2] = 1e300
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    with pytest.raises(ValueError, match="overflow float32"):
        MultiTaskClassifier(hidden_layer_sizes=(4,), max_epochs=1).fit(X, Y)


def test_large_but_representable_values_pass():
    X = np.array([[3e38, -1.0], [0.0, 1e-300]])
    out = prepare_features(X)
    assert np.isfinite(out).all() and out.dtype == np.float32
    assert prepare_features(np.array([[np.inf]]))[0, 0] == np.inf  # not an overflow


# -- texts and tokens with lone surrogates -----------------------------------------------


def test_check_texts_names_the_row_with_a_lone_surrogate():
    texts = ["fine", "also fine", "ok", "bro\ud800ken"]
    with pytest.raises(ValueError, match=r"X\[3\] contains a lone surrogate .*U\+D800"):
        check_texts(texts)
    with pytest.raises(ValueError, match=r"X\[0\] contains a lone surrogate .*U\+D83D"):
        TextEncoder(**TINY_TEXT).prepare(["pair split \ud83d\ude00"])
    assert check_texts(["emoji \U0001f600 is fine"]) == ["emoji \U0001f600 is fine"]


def test_check_tokens_validates_every_token():
    assert check_tokens([["A", "film"], ("Bad", "!"), np.array(["x"]), []]) == [
        ["A", "film"],
        ["Bad", "!"],
        ["x"],
        [],
    ]
    assert all(type(w) is str for row in check_tokens([np.array(["a", "b"])]) for w in row)
    cases = [
        ([["a"], ["b", 3]], r"X\[1\]\[1\] is a int"),
        ([["a", ""]], r"X\[0\]\[1\] is an empty or whitespace-only token"),
        ([["a"], ["  "]], r"X\[1\]\[0\] is an empty or whitespace-only token"),
        ([["a"], ["b", "c", "d\udc80"]], r"X\[1\]\[2\] contains a lone surrogate"),
        ([["a"], "raw text"], r"X\[1\] is a str .*not a mix"),
        ([["a"], None], r"X\[1\] is a NoneType"),
        ([], "no sentences"),
    ]
    for rows, message in cases:
        with pytest.raises(ValueError, match=message):
            check_tokens(rows)


def test_tokenize_words_hashes_like_prepare():
    enc = TextEncoder(char_dim=3, **TINY_TEXT)
    words = [["A", "good", "film", "."], [], ["Bad", "!"]]
    got = tokenize_words(enc, words)
    want = enc.prepare(["A good film .", "", "Bad !"])
    np.testing.assert_array_equal(got.offsets, want.offsets)
    np.testing.assert_array_equal(got.ids, want.ids)
    np.testing.assert_array_equal(got.chars, want.chars)
    assert tokenize_words(enc.set_params(max_length=2), words).lengths.tolist() == [2, 0, 2]


def test_check_tokens_does_not_change_the_callers_rows():
    rows = [["a", "b"], ("c",)]
    before = copy.deepcopy(rows)
    check_tokens(rows)
    assert rows == before
