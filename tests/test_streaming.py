"""Streamed prediction on raw text: chunk by chunk, the same predictions, flat memory."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

import skmtl.encoders._text as text_module
import skmtl.encoders._tokenize as tokenize_module
import skmtl.estimators._tagger as tagger_module
from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskTagger
from skmtl.encoders import TextEncoder

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_RNG = np.random.RandomState(0)
_WORDS = "good bad movie plot acting great awful i loved hated it boring fun and the a".split()
TEXTS = [" ".join(_RNG.choice(_WORDS, size=_RNG.randint(0, 12))) for _ in range(90)]
LABELS = pd.DataFrame(
    {
        "polarity": np.where(["good" in t for t in TEXTS], "pos", "neg"),
        "n_words": [float(len(t.split())) for t in TEXTS],
    },
    index=[f"doc{i}" for i in range(len(TEXTS))],
)


def _model(architecture="cnn", cls=MultiTaskEstimator, y=LABELS):
    encoder = TextEncoder(architecture=architecture, width=16, embed_dim=8, depth=2, n_heads=2)
    return cls(encoder=encoder, hidden_layer_sizes=(8,), max_epochs=2, random_state=0).fit(TEXTS, y)


@pytest.fixture
def chunk_size(monkeypatch):
    def set_size(size):
        monkeypatch.setattr(tokenize_module, "PREDICT_CHUNK_ROWS", size)

    return set_size


def _outputs(model, X):
    return model.predict(X), model._predictions(X)[0], model.score(X, LABELS)


@pytest.mark.parametrize("architecture", ["cnn", "bilstm", "transformer"])
def test_chunked_predictions_equal_unchunked(architecture, chunk_size):
    model = _model(architecture)
    X = pd.Series(TEXTS, index=LABELS.index)
    pred, raw, score = _outputs(model, X)
    for size in (7, 1):
        chunk_size(size)
        got_pred, got_raw, got_score = _outputs(model, X)
        # the same labels, exactly; the same index; values equal up to float32 rounding
        # (a batch's padded length decides the kernels' blocking, as for any batching)
        pd.testing.assert_series_equal(got_pred["polarity"], pred["polarity"], check_exact=True)
        pd.testing.assert_frame_equal(got_pred, pred, check_exact=False, rtol=1e-6)
        for name, values in raw.items():
            np.testing.assert_allclose(got_raw[name], values, rtol=0, atol=1e-6)
        assert got_score == pytest.approx(score, abs=1e-12)


def test_predict_proba_of_a_classifier_is_chunked_too(chunk_size):
    model = _model(cls=MultiTaskClassifier, y=LABELS[["polarity"]])
    full = model.predict_proba(np.array(TEXTS, dtype=object))
    chunk_size(10)
    for got, want in zip(model.predict_proba(np.array(TEXTS)), full, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_the_tokenizer_sees_one_chunk_at_a_time(chunk_size, monkeypatch):
    model = _model()
    calls = []
    real = text_module.tokenize

    def counting(texts, *args, **kwargs):
        calls.append(len(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(text_module, "tokenize", counting)
    chunk_size(20)
    model.predict(TEXTS)
    assert calls == [20, 20, 20, 20, 10]


def test_peak_memory_is_flat_in_the_number_of_rows(chunk_size):
    model = _model(cls=MultiTaskClassifier, y=LABELS[["polarity"]])
    many = [TEXTS[i % len(TEXTS)] for i in range(20_000)]
    peaks = {}
    for size in (20_000, 1_000):
        chunk_size(size)
        tracemalloc.start()
        try:
            model.predict_proba(many)
            peaks[size] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    # one chunk of 20k texts holds all their token ids at once (tens of MB); 1k-text
    # chunks hold a twentieth of them (the outputs, 20k x 2 float64, are 320 kB)
    assert peaks[1_000] < 0.25 * peaks[20_000], peaks


def test_a_generator_of_texts(chunk_size):
    model = _model()
    want = model.predict(TEXTS)
    chunk_size(16)
    got = model.predict(t for t in TEXTS)
    pd.testing.assert_frame_equal(got, want.reset_index(drop=True))


def test_errors_name_the_row_of_the_whole_input(chunk_size):
    model = _model()
    chunk_size(5)
    bad = list(TEXTS)
    bad[13] = None
    with pytest.raises(ValueError, match=r"X\[13\] is missing"):
        model.predict(bad)
    with pytest.raises(ValueError, match="X contains no documents"):
        model.predict([])
    with pytest.raises(ValueError, match="got a single str"):
        model.predict("one text")


# ---------------------------------------------------------------- the tagger

SENTENCES = [["I", "like", "Paris"], ["You", "run", "fast", "."], ["Go"], ["We", "see", "Rome"]]
TAGS = pd.DataFrame(
    {
        "pos": [
            ["PRON", "VERB", "PROPN"],
            ["PRON", "VERB", "ADV", "PUNCT"],
            ["VERB"],
            ["PRON", "VERB", "PROPN"],
        ],
        "ner": [["O", "O", "B-LOC"], ["O", "O", "O", "O"], ["O"], ["O", "O", "B-LOC"]],
    }
)


@pytest.fixture(scope="module")
def tagger():
    encoder = TextEncoder(width=16, embed_dim=8, depth=2, max_length=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MultiTaskTagger(encoder, crf=["ner"], max_epochs=2, random_state=0).fit(
            SENTENCES * 5, pd.concat([TAGS] * 5, ignore_index=True)
        )


@pytest.mark.parametrize("raw", [False, True], ids=["token lists", "raw strings"])
def test_tagger_chunked_predictions_equal_unchunked(tagger, chunk_size, raw):
    X = [" ".join(s) for s in SENTENCES] * 7 if raw else SENTENCES * 7
    with warnings.catch_warnings(record=True) as one_part:
        warnings.simplefilter("always")
        want = tagger.predict(X)
    chunk_size(3)
    with warnings.catch_warnings(record=True) as chunked:
        warnings.simplefilter("always")
        got = tagger.predict(X)
    pd.testing.assert_frame_equal(got, want)
    # one warning for the sentences cut by max_length=3, counted over every chunk
    assert [str(w.message) for w in chunked] == [str(w.message) for w in one_part]
    assert str(chunked[0].message).startswith("7 sentences are longer")
    assert chunked[0].filename == __file__


@pytest.mark.filterwarnings("ignore:.*sentences are longer")
def test_tagger_tokenizes_one_chunk_at_a_time(tagger, chunk_size, monkeypatch):
    calls = []
    real = tagger_module.tokenize_words

    def counting(encoder, rows):
        calls.append(len(rows))
        return real(encoder, rows)

    monkeypatch.setattr(tagger_module, "tokenize_words", counting)
    chunk_size(10)
    tagger.predict(SENTENCES * 6)
    assert calls == [10, 10, 4]


@pytest.mark.filterwarnings("ignore:.*sentences are longer")
def test_tagger_stream_errors(tagger, chunk_size):
    chunk_size(2)
    with pytest.raises(ValueError, match=r"X\[3\] is a str"):  # a mix, in the second chunk
        tagger.predict([["a"], ["b"], ["c"], "d e"])
    with pytest.raises(ValueError, match=r"X\[2\]\[1\] is a int"):
        tagger.predict([["a"], ["b"], ["c", 1]])
    with pytest.raises(ValueError, match="X contains no sentences"):
        tagger.predict([])
    got = tagger.predict(iter(SENTENCES))
    pd.testing.assert_frame_equal(got, tagger.predict(SENTENCES))
