"""Tests of skmtl.features.SpacyFeaturizer (only the network-free "blank:en" pipeline)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import spacy
from sklearn import config_context
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction import FeatureHasher
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline
from spacy.language import Language

from skmtl.features import SpacyFeaturizer, _spacy

N = 2**12  # a small hashing space keeps the tests fast; collisions are negligible here
TEXTS = ["The cat sat on the mat.", "Dogs barked loudly!", "", "The cat sat on the mat."]


@pytest.fixture(scope="module")
def fitted():
    """A default featurizer (n_features=N), fitted once for the tests that only transform."""
    return SpacyFeaturizer(n_features=N).fit(["ok"])


def featurize(texts, **params):
    params.setdefault("n_features", N)
    return SpacyFeaturizer(**params).fit_transform(texts)


def column(feature: str, n_features: int = N) -> int:
    """The column that a feature string hashes to (as the featurizer hashes it)."""
    hasher = FeatureHasher(n_features, input_type="string", alternate_sign=False)
    return int(hasher.transform([[feature]]).indices[0])


@Language.component("skmtl_test_fake_lemmatizer", assigns=["token.lemma"])
def _fake_lemmatizer(doc):
    for token in doc:
        token.lemma_ = token.lower_.rstrip("s")
    return doc


def _blank_with_vectors(model):
    nlp = spacy.blank("en")
    nlp.vocab.set_vector("cat", np.ones(3, dtype=np.float32))
    nlp.vocab.set_vector("dog", np.full(3, 2.0, dtype=np.float32))
    return nlp


def _blank_with_lemmatizer(model):
    nlp = spacy.blank("en")
    nlp.add_pipe("skmtl_test_fake_lemmatizer")
    return nlp


# ----------------------------------------------------------------- output


def test_output_shape_type_dtype():
    X = featurize(TEXTS)
    assert sp.issparse(X) and X.format == "csr" and isinstance(X, sp.csr_matrix)
    assert X.shape == (4, N)
    assert X.dtype == np.float32
    assert SpacyFeaturizer().fit(TEXTS).n_features_out_ == 2**20


def test_sparray_config_is_followed():
    with config_context(sparse_interface="sparray"):
        X = featurize(["a b"])
    assert isinstance(X, sp.csr_array) and X.dtype == np.float32


def test_same_text_same_row_across_calls_and_batches():
    featurizer = SpacyFeaturizer(n_features=N, batch_size=1).fit(TEXTS)
    X = featurizer.transform(TEXTS)
    assert (X[0] != X[3]).nnz == 0
    assert X[0].nnz > 0
    alone = featurizer.transform([TEXTS[3]])
    assert (alone[0] != X[0]).nnz == 0
    other_batches = featurize(TEXTS, batch_size=3)
    assert (other_batches != X).nnz == 0


def test_attribute_features_in_expected_columns():
    X = featurize(["Cats"], attrs=("norm", "prefix", "suffix", "shape"), norm=None)
    expected = {column(f) for f in ("norm=cats", "prefix=C", "suffix=ats", "shape=Xxxx")}
    assert set(X.indices.tolist()) == expected
    assert X.data.tolist() == [1.0] * 4


def test_different_attrs_change_features():
    base = featurize(TEXTS[:2], attrs=("norm",))
    shape = featurize(TEXTS[:2], attrs=("shape",))
    lower = featurize(TEXTS[:2], attrs=("norm", "lower"))
    assert (base != shape).nnz > 0
    assert (base != lower).nnz > 0
    assert lower[0].nnz > base[0].nnz


def test_ngrams_present():
    X = featurize(["a b c", "a b"], attrs=(), ngram_range=(2, 3), norm=None)
    row0 = set(X[0].indices.tolist())
    assert row0 == {column("ngram=a b"), column("ngram=b c"), column("ngram=a b c")}
    assert set(X[1].indices.tolist()) == {column("ngram=a b")}
    unigrams = featurize(["a b c"], ngram_range=(1, 1))
    bigrams = featurize(["a b c"], ngram_range=(1, 2))
    assert bigrams.nnz > unigrams.nnz


def test_whitespace_tokens_are_skipped():
    a = featurize(["hello world"], ngram_range=(1, 2))
    b = featurize(["  hello \n\n world  "], ngram_range=(1, 2))
    assert (a != b).nnz == 0


def test_l2_norm_rows_are_unit_and_empty_rows_zero():
    X = featurize(TEXTS, norm="l2")
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    np.testing.assert_allclose(norms[[0, 1, 3]], 1.0, rtol=1e-6)
    assert norms[2] == 0.0
    l1 = featurize(TEXTS[:2], norm="l1")
    np.testing.assert_allclose(np.asarray(abs(l1).sum(axis=1)).ravel(), 1.0, rtol=1e-6)


def test_counts_binary_and_sublinear():
    text = ["cat cat cat"]
    counts = featurize(text, attrs=("norm",), norm=None)
    assert counts[0, column("norm=cat")] == 3.0
    binary = featurize(text, attrs=("norm",), norm=None, binary=True)
    assert binary[0, column("norm=cat")] == 1.0
    sublinear = featurize(text, attrs=("norm",), norm=None, sublinear_tf=True)
    assert sublinear[0, column("norm=cat")] == pytest.approx(1 + np.log(3))


# -------------------------------------------------------- sklearn composition


def test_pipeline_learns_toy_task():
    pos = ["great movie", "I loved it", "wonderful acting", "great fun", "loved the plot"]
    neg = ["awful movie", "I hated it", "terrible acting", "awful boredom", "hated the plot"]
    X, y = pos + neg, [1] * 5 + [0] * 5
    model = make_pipeline(SpacyFeaturizer(n_features=N), LogisticRegression(C=10.0))
    model.fit(X, y)
    assert model.score(X, y) == 1.0
    assert model.predict(["a great and wonderful plot", "terrible and awful"]).tolist() == [1, 0]


def test_feature_union():
    union = FeatureUnion(
        [
            ("lex", SpacyFeaturizer(n_features=N)),
            ("ngrams", SpacyFeaturizer(attrs=(), ngram_range=(2, 2), n_features=64)),
        ]
    )
    X = union.fit_transform(TEXTS)
    assert X.shape == (4, N + 64)
    assert X[:, N:].nnz > 0
    names = union.get_feature_names_out()
    assert names[0] == "lex__hash_0" and names[-1] == "ngrams__hash_63"


@pytest.mark.parametrize("columns", ["text", ["text"]])
def test_column_transformer_on_text_column(columns):
    df = pd.DataFrame({"text": TEXTS, "length": [len(t) for t in TEXTS]})
    ct = ColumnTransformer(
        [("text", SpacyFeaturizer(n_features=N), columns), ("num", "passthrough", ["length"])]
    )
    X = ct.fit_transform(df)
    assert X.shape == (4, N + 1)
    expected = featurize(TEXTS)
    assert (sp.csr_matrix(X)[:, :N] != expected).nnz == 0
    assert df["text"].tolist() == TEXTS


# ---------------------------------------------------- clone and persistence


def test_clone_gives_identical_output():
    featurizer = SpacyFeaturizer(n_features=N, ngram_range=(1, 2)).fit(TEXTS)
    cloned = clone(featurizer)
    assert not hasattr(cloned, "n_features_out_")
    assert cloned.get_params() == featurizer.get_params()
    assert (cloned.fit_transform(TEXTS) != featurizer.transform(TEXTS)).nnz == 0


def test_pickle_round_trip_excludes_nlp():
    featurizer = SpacyFeaturizer(n_features=N, ngram_range=(1, 2)).fit(TEXTS)
    expected = featurizer.transform(TEXTS)
    assert "_nlp" in featurizer.__dict__
    blob = pickle.dumps(featurizer)
    nlp_size = len(pickle.dumps(featurizer._nlp))
    assert len(blob) < 5_000 < nlp_size
    assert b"spacy.lang" not in blob and b"Tokenizer" not in blob
    # Pickling must not strip the live object's cache.
    assert "_nlp" in featurizer.__dict__
    restored = pickle.loads(blob)
    assert "_nlp" not in restored.__dict__
    assert (restored.transform(TEXTS) != expected).nnz == 0
    assert "_nlp" in restored.__dict__  # reloaded by name on first use
    deep = copy.deepcopy(featurizer)
    assert "_nlp" not in deep.__dict__
    assert (deep.transform(TEXTS) != expected).nnz == 0


def test_pickle_unfitted():
    restored = pickle.loads(pickle.dumps(SpacyFeaturizer(n_features=N)))
    assert (restored.fit_transform(TEXTS) != featurize(TEXTS)).nnz == 0


# ----------------------------------------------------------- bad parameters


def test_not_installed_pipeline_error():
    with pytest.raises(OSError) as info:
        SpacyFeaturizer(model="xx_skmtl_not_installed").fit(["a"])
    message = str(info.value)
    assert "xx_skmtl_not_installed" in message
    assert "python -m spacy download xx_skmtl_not_installed" in message
    assert "blank:en" in message and "no network" in message


def test_unknown_blank_language():
    with pytest.raises(ValueError, match="blank:zzz"):
        SpacyFeaturizer(model="blank:zzz").fit(["a"])


def test_vectors_without_vectors_table_raises():
    with pytest.raises(ValueError, match="no static word vectors"):
        SpacyFeaturizer(vectors=True).fit(["a"])


def test_vectors_are_mean_pooled(monkeypatch):
    monkeypatch.setattr(_spacy, "_load_pipeline", _blank_with_vectors)
    featurizer = SpacyFeaturizer(n_features=16, vectors=True).fit(["cat"])
    assert featurizer.vector_size_ == 3 and featurizer.n_features_out_ == 19
    X = featurizer.transform(["cat dog", "zebra", ""])
    assert X.shape == (3, 19) and X.dtype == np.float32
    np.testing.assert_allclose(X[:, 16:].toarray(), [[1.5] * 3, [0.0] * 3, [0.0] * 3])
    np.testing.assert_allclose(np.sqrt(X[0, :16].multiply(X[0, :16]).sum()), 1.0, rtol=1e-6)
    assert featurizer.get_feature_names_out()[-1] == "vector_2"
    restored = pickle.loads(pickle.dumps(featurizer))
    assert (restored.transform(["cat dog"]) != X[0]).nnz == 0


def test_lemma_needs_a_lemmatizer(monkeypatch):
    with pytest.raises(ValueError, match="no component that sets lemmas"):
        SpacyFeaturizer(attrs=("lemma",)).fit(["cats"])
    monkeypatch.setattr(_spacy, "_load_pipeline", _blank_with_lemmatizer)
    X = featurize(["Cats"], attrs=("lemma",), norm=None)
    assert X.indices.tolist() == [column("lemma=cat")]


@pytest.mark.parametrize(
    "params",
    [
        {"model": None},
        {"model": "blank:"},
        {"attrs": "norm"},
        {"attrs": ("norm", "pos")},
        {"attrs": ("norm", "norm")},
        {"attrs": (), "ngram_range": (1, 1)},
        {"ngram_range": (2, 1)},
        {"ngram_range": (0, 1)},
        {"ngram_range": 2},
        {"n_features": 0},
        {"n_features": 2.5},
        {"norm": "l3"},
        {"binary": "yes"},
        {"batch_size": 0},
        {"n_process": 0},
    ],
)
def test_invalid_params_raise(params):
    with pytest.raises(ValueError, match="SpacyFeaturizer"):
        SpacyFeaturizer(**params).fit(["a"])


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError):
        SpacyFeaturizer().transform(["a"])


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("bad", "described"),
    [
        (None, r"X\[2\] is None"),
        (float("nan"), r"X\[2\] is NaN"),
        (np.nan, r"X\[2\] is NaN"),
        (7, r"X\[2\] has type int"),
        (b"bytes", r"X\[2\] has type bytes"),
        (pd.NA, r"X\[2\] is missing \(NAType\)"),
    ],
)
def test_non_string_rows_raise_naming_the_row(fitted, bad, described):
    X = ["ok", "fine", bad]
    with pytest.raises(ValueError, match=described + ".*expected a string"):
        fitted.transform(X)
    with pytest.raises(ValueError, match=described):
        SpacyFeaturizer(n_features=N).fit(X)


def test_nan_in_series_and_object_array(fitted):
    with pytest.raises(ValueError, match=r"X\[1\] is NaN"):
        fitted.transform(pd.Series(["ok", np.nan], index=[10, 20]))
    with pytest.raises(ValueError, match=r"X\[0\] is None"):
        fitted.transform(np.array([None, "ok"], dtype=object))


def test_empty_strings_and_empty_input(fitted):
    X = fitted.transform(["", "", "word"])
    assert X.shape == (3, N)
    assert X[0].nnz == 0 and X[1].nnz == 0 and X[2].nnz > 0
    empty = fitted.transform([])
    assert empty.shape == (0, N) and empty.dtype == np.float32


def test_very_long_text_works():
    long_text = "word " * 239_999 + "final words"  # spaCy's default max_length: 1,000,000
    assert len(long_text) > 1_200_000
    X = featurize([long_text, "short"], attrs=("norm",), norm=None)
    assert X[0, column("norm=word")] == 239_999
    assert X[0, column("norm=final")] == 1


@pytest.mark.parametrize("single", ["just one text", b"bytes"])
def test_single_string_raises(fitted, single):
    with pytest.raises(ValueError, match="wrap it in a list"):
        SpacyFeaturizer().fit(single)
    with pytest.raises(ValueError, match="wrap it in a list"):
        fitted.transform(single)
    with pytest.raises(ValueError, match="wrap it in a list"):
        SpacyFeaturizer().fit_transform(single)


@pytest.mark.parametrize("bad", [None, 3, np.array("text"), np.array([["a", "b"]])])
def test_non_iterable_or_multi_column_input_raises(bad):
    with pytest.raises(ValueError, match="SpacyFeaturizer: expected"):
        SpacyFeaturizer(n_features=N).fit(bad)


def test_accepted_containers_give_same_output(fitted):
    expected = fitted.transform(TEXTS)
    assert (featurize(t for t in TEXTS) != expected).nnz == 0  # fit_transform reads it once
    for X in (
        tuple(TEXTS),
        np.array(TEXTS),
        np.array(TEXTS, dtype=object),
        pd.Series(TEXTS, index=[5, 6, 7, 8]),
        pd.Series(TEXTS, dtype="string"),
        pd.DataFrame({"text": TEXTS}),
        (t for t in TEXTS),
    ):
        assert (fitted.transform(X) != expected).nnz == 0, type(X)
    one_shot = iter(TEXTS)
    SpacyFeaturizer(n_features=N).fit(one_shot)
    assert next(one_shot) == TEXTS[0]  # fit leaves a one-shot iterator for transform


def test_input_not_mutated(fitted):
    as_list = list(TEXTS)
    as_array = np.array(TEXTS, dtype=object)
    as_series = pd.Series(TEXTS)
    for X in (as_list, as_array, as_series):
        fitted.transform(X)
        SpacyFeaturizer(n_features=N).fit_transform(X)
    assert as_list == TEXTS
    assert as_array.tolist() == TEXTS
    assert as_series.tolist() == TEXTS


def test_get_feature_names_out():
    featurizer = SpacyFeaturizer(n_features=8).fit(["a"])
    names = featurizer.get_feature_names_out()
    assert names.tolist() == [f"hash_{i}" for i in range(8)]
    assert names.dtype == object
