"""skmtl.save / skmtl.load: safe model files that load back exactly, and safe pickles."""

from __future__ import annotations

import copy
import io
import json
import pickle
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skmtl
from skmtl import (
    InconsistentVersionWarning,
    MultiTaskClassifier,
    MultiTaskEstimator,
    MultiTaskRegressor,
    MultiTaskTagger,
    PerTask,
)
from skmtl.architectures import PLE, CrossStitch, Hierarchical, MMoE
from skmtl.encoders import TextEncoder
from skmtl.weighting import DBMTL, FAMO, RLW, PCGrad, UncertaintyWeighting

FAST = {"hidden_layer_sizes": (8,), "max_epochs": 3, "batch_size": 32, "random_state": 0}


@pytest.fixture(autouse=True)
def _quiet():
    """Short fits warn that they stopped at max_epochs; that is not what is tested here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*max_epochs.*")
        warnings.filterwarnings("ignore", message=".*every prediction is the empty label set.*")
        yield


def _data(n=80):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 6))
    Y = pd.DataFrame(
        {
            "sentiment": np.where(X[:, 0] > 0, "pos", "neg").astype(object),
            "topic": np.array(["a", "b", "c"], dtype=object)[
                (X[:, 1] > 0).astype(int) + (X[:, 2] > 0)
            ],
            "tags": [tuple(t for t, on in zip("xyz", r, strict=True) if on) for r in X[:, 3:] > 0],
            "intensity": X[:, 3] * 2.0 + 1.0,
        }
    )
    Y.loc[1, "sentiment"] = None
    Y.loc[2, "topic"] = np.nan
    Y.loc[3, "tags"] = None
    Y.loc[4, "intensity"] = np.nan
    return X, Y


def _classifier_multilabel():
    X, Y = _data()
    model = MultiTaskClassifier(
        **FAST,
        architecture=MMoE(n_experts=2),
        weighting=UncertaintyWeighting(init_log_var=0.25),
        threshold=PerTask({"tags": np.array([0.3, 0.6, 0.5])}, default=0.5),
        class_weight={"sentiment": {"neg": 2.0, "pos": 1.0}},
    )
    return model, X, Y[["sentiment", "topic", "tags"]]


def _classifier_sparse():
    X, Y = _data()
    X = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
    Y = np.column_stack([Y["sentiment"].fillna("neg") == "pos", X[:, 1].toarray().ravel() > 0])
    model = MultiTaskClassifier(
        **{**FAST, "hidden_layer_sizes": (8, 8)}, architecture=PLE(), weighting=PCGrad()
    )
    return model, X, Y.astype(int)


def _regressor_grouped():
    X, _ = _data()
    Y = pd.DataFrame({"v": X[:, 0] * 3, "a": X[:, 1] - X[:, 2], "z": X[:, 4] * 10.0})
    Y.iloc[::7, 1] = np.nan
    model = MultiTaskRegressor(
        **FAST,
        tasks={"va": {"type": "continuous", "columns": ["v", "a"]}},
        architecture=CrossStitch(),
        weighting=DBMTL(),
    )
    return model, X, Y


def _mixed_hierarchical():
    X, Y = _data()
    model = MultiTaskEstimator(
        **{**FAST, "hidden_layer_sizes": (8, 8)},
        architecture=Hierarchical({"sentiment": 1}),
        weighting=FAMO(),
        task_weights={"intensity": 0.5},
    )
    return model, pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]), Y


def _mixed_rlw_early_stopping():
    X, Y = _data()
    model = MultiTaskEstimator(
        **{**FAST, "max_epochs": 4},
        weighting=RLW(),
        early_stopping=True,
        n_iter_no_change=2,
        record_gradients=True,
        weight_averaging=0.5,
    )
    return model, X, Y


TEXTS = ["good movie", "great plot and good acting", "i loved it", "bad movie", "awful plot"]


def _text_classifier():
    X = [TEXTS[i % len(TEXTS)] + (" indeed" if i % 3 else "") for i in range(30)]
    Y = pd.DataFrame(
        {
            "sentiment": ["pos" if ("good" in t or "loved" in t) else "neg" for t in X],
            "aspects": [tuple(a for a in ("plot", "acting") if a in t) for t in X],
        }
    )
    encoder = TextEncoder(embed_dim=8, width=8, depth=1, max_length=16, char_dim=4)
    model = MultiTaskClassifier(encoder=encoder, **{**FAST, "hidden_layer_sizes": (8,)})
    return model, X, Y


def _tagger():
    X = [["I", "like", "Paris"], ["You", "run", "fast", "."], ["Go"], ["We", "saw", "Rome"]] * 3
    Y = {
        "pos": [["PRON", "VERB", "PROPN"], ["PRON", "VERB", "ADV", "PUNCT"], ["VERB"], None] * 3,
        "ner": [["O", "O", "B-LOC"], ["O", "O", "O", "O"], ["O"], ["O", "O", "B-LOC"]] * 3,
        "mood": ["happy", "busy", "busy", None] * 3,
    }
    encoder = TextEncoder(width=8, embed_dim=8, depth=2, char_dim=4)
    model = MultiTaskTagger(
        encoder,
        crf=["ner"],
        architecture=Hierarchical({"pos": 1}),
        weighting=UncertaintyWeighting(),
        max_epochs=2,
        random_state=0,
    )
    return model, X, Y


def _after_add_tasks():
    X, Y = _data()
    model = MultiTaskEstimator(
        **FAST, architecture=MMoE(n_experts=2), weighting=UncertaintyWeighting()
    )
    model.fit(X, Y[["sentiment", "intensity"]])
    model.add_tasks(X, Y[["topic", "tags"]])
    return model, X, Y


CASES = {
    "classifier-multilabel-mmoe-uncertainty": _classifier_multilabel,
    "classifier-sparse-ple-pcgrad": _classifier_sparse,
    "regressor-grouped-crossstitch-dbmtl": _regressor_grouped,
    "mixed-missing-hierarchical-famo": _mixed_hierarchical,
    "mixed-rlw-early-stopping": _mixed_rlw_early_stopping,
    "text-encoder-classifier": _text_classifier,
    "tagger-crf-document-task": _tagger,
    "after-add-tasks": _after_add_tasks,
}


def _fitted(name):
    model, X, Y = CASES[name]()
    if not hasattr(model, "module_"):
        model.fit(X, Y)
    return model, X, Y


def _round_trip(model, tmp_path: Path, name="model.safetensors"):
    path = tmp_path / name
    skmtl.save(model, path)
    return skmtl.load(path)


def _assert_same_predictions(a, b, X, assert_same):
    assert_same(a.predict(X), b.predict(X))
    if hasattr(b, "predict_proba"):
        assert_same(a.predict_proba(X), b.predict_proba(X))


def _assert_same_weights(a, b):
    sa, sb = a.module_.state_dict(), b.module_.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert torch.equal(sa[key], sb[key]), f"{key} differs"


@pytest.mark.parametrize("name", list(CASES))
def test_load_gives_the_same_model(name, tmp_path, assert_same):
    model, X, Y = _fitted(name)
    loaded = _round_trip(model, tmp_path)
    assert type(loaded) is type(model)
    _assert_same_predictions(loaded, model, X, assert_same)
    assert_same(loaded.get_params(deep=False), model.get_params(deep=False))
    assert repr(loaded) == repr(model)
    _assert_same_weights(loaded, model)
    assert list(loaded.tasks_) == list(model.tasks_)
    for task, saved in zip(loaded.tasks_.values(), model.tasks_.values(), strict=True):
        assert type(task) is type(saved)
        assert_same(vars(task), vars(saved))
    for attr in ("target_layout_", "history_", "n_iter_", "best_epoch_"):
        assert_same(getattr(loaded, attr), getattr(model, attr))
    for attr in ("classes_", "n_features_in_", "feature_names_in_", "encoder_"):
        assert hasattr(loaded, attr) == hasattr(model, attr)
        if hasattr(model, attr):
            assert_same(getattr(loaded, attr), getattr(model, attr))
    assert loaded.device_ == torch.device("cpu")
    assert type(loaded.weighting_) is type(model.weighting_)
    assert loaded.module_.build_groups == model.module_.build_groups


@pytest.mark.parametrize("name", list(CASES))
def test_warm_start_after_load_continues_like_the_original(name, tmp_path, assert_same):
    model, X, Y = _fitted(name)
    model.set_params(warm_start=True, max_epochs=2)
    twin = copy.deepcopy(model)  # through __getstate__ / __setstate__
    loaded = _round_trip(model, tmp_path)
    for m in (model, twin, loaded):
        m.fit(X, Y)
    for other in (twin, loaded):
        _assert_same_weights(other, model)
        assert other.history_[:, "train_loss"] == model.history_[:, "train_loss"]
        _assert_same_predictions(other, model, X, assert_same)


def test_loaded_model_keeps_training_state_that_matters(tmp_path):
    """The optimiser's moments and the strategy's generator are restored, not reset."""
    model, X, Y = _fitted("mixed-rlw-early-stopping")
    model.set_params(warm_start=True, max_epochs=1, early_stopping=False)
    loaded = _round_trip(model, tmp_path)
    state = loaded.optimizer_.state_dict()["state"]
    saved = model.optimizer_.state_dict()["state"]
    assert len(state) == len(saved) > 0
    for i, entry in saved.items():
        for key, value in entry.items():
            assert torch.equal(state[i][key], value), (i, key)
    assert torch.equal(
        loaded.weighting_.generator_.get_state(), model.weighting_.generator_.get_state()
    )
    assert loaded.weighting_.task_names_ == model.weighting_.task_names_


def test_numpy_generator_state_is_restored(tmp_path):
    model, X, Y = _fitted("classifier-sparse-ple-pcgrad")
    loaded = _round_trip(model, tmp_path)
    assert loaded.weighting_._rng.bit_generator.state == model.weighting_._rng.bit_generator.state
    assert loaded.weighting_._rng.random() == model.weighting_._rng.random()


def test_unfitted_model_round_trips(tmp_path, assert_same):
    model = MultiTaskTagger(
        TextEncoder(attrs=("norm", "shape"), width=16),
        crf="auto",
        task_weights=PerTask({"ner": 2}, default=0.5),
        class_weight={"pos": {1: 2.0, "NOUN": np.float32(1.5)}},
        weighting=RLW(random_state=np.random.RandomState(3)),
        tol=float("-inf"),
    )
    loaded = _round_trip(model, tmp_path)
    assert not hasattr(loaded, "module_")
    params, saved = loaded.get_params(deep=False), model.get_params(deep=False)
    for p in (params, saved):
        p["weighting"] = p["weighting"].get_params()
        rng = p["weighting"].pop("random_state")
        p["rng"] = rng.get_state(legacy=False)  # a RandomState compares by identity
    assert_same(params, saved)
    assert (
        loaded.class_weight["pos"][1] == 2.0
        and type(loaded.class_weight["pos"]["NOUN"]) is np.float32
    )
    assert loaded.weighting.random_state.randint(1000) == model.weighting.random_state.randint(1000)


def test_loading_does_not_touch_the_global_torch_rng(tmp_path):
    model, _, _ = _fitted("classifier-multilabel-mmoe-uncertainty")
    path = tmp_path / "m.safetensors"
    skmtl.save(model, path)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    skmtl.load(path)
    pickle.loads(pickle.dumps(model))
    assert torch.equal(torch.rand(3), expected)


def test_file_is_one_safetensors_file_with_a_json_document(tmp_path):
    model, _, _ = _fitted("after-add-tasks")
    path = tmp_path / "m.safetensors"
    skmtl.save(model, path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    with safe_open(str(path), framework="pt") as f:
        doc = json.loads(f.metadata()["skmtl"])
        keys = set(f.keys())
    assert (
        doc["format"] == "skmtl-model"
        and doc["format_version"] == skmtl._persistence.FORMAT_VERSION
    )
    assert doc["versions"]["skmtl"] == skmtl.__version__
    assert doc["versions"]["torch"] == torch.__version__
    assert doc["estimator"]["class"] == "skmtl.MultiTaskEstimator"
    assert doc["fitted"]["torch"]["groups"] == [["sentiment", "intensity"], ["topic", "tags"]]
    assert doc["fitted"]["weighting"]["class"] == "skmtl.weighting.UncertaintyWeighting"
    assert {f"module.{k}" for k in model.module_.state_dict()} <= keys
    assert "param_groups" in json.dumps(doc["fitted"]["torch"]["optimizer"])


# ---------------------------------------------------------------- refused files


class MyWeighting(UncertaintyWeighting):
    """A user's strategy: pickled as usual, but no class a model file may name."""


class _Payload:
    """Creates ``marker`` when unpickled: what a malicious model file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (self.marker.touch, ())


def test_load_refuses_a_pickle_with_a_code_payload(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError, match="looks like a pickle"):
        skmtl.load(path)
    assert not marker.exists()
    pickle.loads(path.read_bytes())  # the payload is live: unpickling would run it
    assert marker.exists()


def test_load_refuses_a_joblib_model_and_other_files(tmp_path):
    model, _, _ = _fitted("classifier-multilabel-mmoe-uncertainty")
    joblib.dump(model, tmp_path / "model.joblib")
    with pytest.raises(ValueError, match="not an skmtl model"):
        skmtl.load(tmp_path / "model.joblib")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ValueError, match="not an skmtl model"):
        skmtl.load(tmp_path / "empty")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"), metadata={"a": "b"})
    with pytest.raises(ValueError, match="no 'skmtl' metadata"):
        skmtl.load(tmp_path / "other.safetensors")
    with pytest.raises(FileNotFoundError):
        skmtl.load(tmp_path / "missing.safetensors")


def _saved_document(tmp_path, name="classifier-multilabel-mmoe-uncertainty"):
    model, X, _ = _fitted(name)
    path = tmp_path / "good.safetensors"
    skmtl.save(model, path)
    with safe_open(str(path), framework="pt") as f:
        doc = json.loads(f.metadata()["skmtl"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return doc, tensors


def _write(tmp_path, doc, tensors, name="crafted.safetensors"):
    path = tmp_path / name
    save_file(tensors, str(path), metadata={"skmtl": json.dumps(doc)})
    return path


def _evil(marker: Path, cls="os.system"):
    return {"$": "object", "class": cls, "params": {"command": f"touch {marker}"}}


@pytest.mark.parametrize(
    "where",
    ["estimator", "param", "nested-param", "weighting_", "fitted-attribute", "task-type"],
)
def test_load_refuses_classes_outside_the_allow_list(tmp_path, where):
    marker = tmp_path / "marker"
    doc, tensors = _saved_document(tmp_path)
    if where == "estimator":
        doc["estimator"] = _evil(marker)
    elif where == "param":
        doc["estimator"]["params"]["weighting"] = _evil(marker, "builtins.eval")
    elif where == "nested-param":
        doc["estimator"]["params"]["tasks"] = {"$": "dict", "items": [["x", [_evil(marker)]]]}
    elif where == "weighting_":
        doc["fitted"]["weighting"]["class"] = "posix.system"
    elif where == "fitted-attribute":
        doc["fitted"]["attributes"]["n_iter_"] = _evil(marker, "subprocess.Popen")
    else:
        task = doc["fitted"]["attributes"]["tasks_"]["items"][0][1]
        task["type"] = "os.system"
    path = _write(tmp_path, doc, tensors)
    with pytest.raises(ValueError, match=r"Cannot load .*(not one of the skmtl classes|task type)"):
        skmtl.load(path)
    assert not marker.exists()


def test_load_refuses_a_future_format_version(tmp_path):
    doc, tensors = _saved_document(tmp_path)
    doc["format_version"] = 99
    doc["versions"]["skmtl"] = "9.0"
    path = _write(tmp_path, doc, tensors)
    with pytest.raises(
        ValueError, match=r"skmtl 9\.0 in model format version 99.*reads format version 1"
    ):
        skmtl.load(path)


@pytest.mark.parametrize(
    "damage",
    ["no-format", "no-fitted-torch", "no-tensor", "unknown-tag", "unknown-param", "bad-attribute"],
)
def test_load_refuses_damaged_files(tmp_path, damage):
    doc, tensors = _saved_document(tmp_path)
    if damage == "no-format":
        del doc["format"]
    elif damage == "no-fitted-torch":
        del doc["fitted"]["torch"]
    elif damage == "no-tensor":
        tensors.pop(next(k for k in tensors if k.startswith("module.")))
    elif damage == "unknown-tag":
        doc["estimator"]["params"]["tol"] = {"$": "pickle", "data": "gASV"}
    elif damage == "unknown-param":
        doc["estimator"]["params"]["surprise"] = 1
    else:
        doc["fitted"]["attributes"]["__class__"] = "x"
    path = _write(tmp_path, doc, tensors)
    with pytest.raises(ValueError, match="not an skmtl model|Cannot load"):
        skmtl.load(path)


def test_load_refuses_a_truncated_file(tmp_path):
    model, _, _ = _fitted("classifier-multilabel-mmoe-uncertainty")
    path = tmp_path / "m.safetensors"
    skmtl.save(model, path)
    data = path.read_bytes()
    path.write_bytes(data[:-100])  # the header is intact, the tensors are cut
    with pytest.raises(ValueError, match="Cannot load .*tensors cannot be read"):
        skmtl.load(path)
    path.write_bytes(data[:50])  # the header is cut
    with pytest.raises(ValueError, match="not an skmtl model file"):
        skmtl.load(path)


def test_load_warns_when_another_skmtl_version_saved_the_file(tmp_path, assert_same):
    doc, tensors = _saved_document(tmp_path)
    doc["versions"]["skmtl"] = "0.0.1"
    path = _write(tmp_path, doc, tensors)
    with pytest.warns(InconsistentVersionWarning, match=r"skmtl 0\.0\.1 with skmtl "):
        skmtl.load(path)


def test_model_saved_on_a_gpu_loads_on_the_cpu(tmp_path, monkeypatch):
    doc, tensors = _saved_document(tmp_path)
    doc["fitted"]["device"] = "cuda:0"
    path = _write(tmp_path, doc, tensors)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="fitted on cuda:0 .* loaded on the CPU"):
        loaded = skmtl.load(path)
    assert loaded.device_ == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in loaded.module_.parameters())


def test_save_refuses_what_a_model_file_cannot_hold(tmp_path):
    X, Y = _data()
    with pytest.raises(TypeError, match="saves skmtl estimators.*Pipeline"):
        skmtl.save(make_pipeline(StandardScaler(), MultiTaskClassifier()), tmp_path / "p")

    class MyClassifier(MultiTaskClassifier):
        pass

    with pytest.raises(TypeError, match="MyClassifier"):
        skmtl.save(MyClassifier(), tmp_path / "s")

    model = MultiTaskClassifier(**FAST, weighting=MyWeighting())
    with pytest.raises(TypeError, match="params.weighting"):
        skmtl.save(model, tmp_path / "w")
    model.fit(X, Y[["sentiment", "topic"]])
    assert pickle.loads(pickle.dumps(model)).weighting_.task_names_ == ["sentiment", "topic"]
    with pytest.raises(TypeError, match=r"cannot store .*object"):
        skmtl.save(MultiTaskClassifier(tasks={"a": object()}), tmp_path / "o")
    assert not list(tmp_path.iterdir())  # nothing half-written


# ---------------------------------------------------------------- pickles


def test_pickle_stores_tensors_only_and_loads_them_with_weights_only(monkeypatch):
    model, X, _ = _fitted("mixed-missing-hierarchical-famo")
    blob = pickle.dumps(model)
    for name in (b"MultiTaskNetwork", b"HierarchicalModule", b"_FAMOState", b"AdamW"):
        assert name not in blob, name  # the network and optimiser are not pickled objects
    calls = []
    real = torch.load

    def recording(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", recording)
    restored = pickle.loads(blob)
    assert calls and all(c.get("weights_only") is True for c in calls)
    assert all(str(c.get("map_location")) == "cpu" for c in calls)
    np.testing.assert_array_equal(restored.predict(X).to_numpy(), model.predict(X).to_numpy())


def test_pickled_torch_state_with_a_code_payload_is_refused(tmp_path):
    from skmtl._torch_base import _TorchState

    marker = tmp_path / "marker"
    model, _, _ = _fitted("classifier-multilabel-mmoe-uncertainty")
    state = model.__getstate__()
    buffer = io.BytesIO()
    torch.save({"format": 1, "network": _Payload(marker)}, buffer)
    state["_torch_state"] = _TorchState(buffer.getvalue())
    twin = MultiTaskClassifier.__new__(MultiTaskClassifier)
    with pytest.raises(pickle.UnpicklingError):
        twin.__setstate__(state)
    assert not marker.exists()


def test_pickle_from_an_older_skmtl_is_refused():
    from skmtl._torch_base import _TorchBytes

    model, _, _ = _fitted("classifier-multilabel-mmoe-uncertainty")
    state = model.__getstate__()
    state.pop("_torch_state")
    state["module_"] = _TorchBytes(b"old")
    twin = MultiTaskClassifier.__new__(MultiTaskClassifier)
    with pytest.raises(ValueError, match="older skmtl"):
        twin.__setstate__(state)


def test_pickle_warns_on_another_skmtl_version(monkeypatch):
    model, X, _ = _fitted("classifier-multilabel-mmoe-uncertainty")
    monkeypatch.setattr(skmtl, "__version__", "0.0.1")
    blob = pickle.dumps(model)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match=rf"0\.0\.1 with skmtl {skmtl.__version__}"):
        restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.predict_proba(X)[0], model.predict_proba(X)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        pickle.loads(pickle.dumps(model))  # the same version: no warning


def test_pickled_gpu_model_loads_on_the_cpu(monkeypatch):
    model, X, _ = _fitted("classifier-multilabel-mmoe-uncertainty")
    state = model.__getstate__()
    state["device_"] = torch.device("cuda", 0)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    twin = MultiTaskClassifier.__new__(MultiTaskClassifier)
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        twin.__setstate__(state)
    assert twin.device_ == torch.device("cpu")
    np.testing.assert_array_equal(twin.predict_proba(X)[0], model.predict_proba(X)[0])


def test_static_vectors_table_is_saved_with_the_weights(tmp_path, monkeypatch, assert_same):
    import spacy

    from skmtl.encoders import _text

    def pipeline(name):
        nlp = spacy.blank("en")
        for i, word in enumerate(("good", "bad", "film")):
            nlp.vocab.set_vector(word, np.arange(4, dtype=np.float32) + 3 * i)
        return nlp

    monkeypatch.setattr(_text, "load_tokenizer", pipeline)
    X = ["good film", "bad film", "good", "bad"] * 5
    Y = pd.DataFrame({"s": ["pos", "neg", "pos", "neg"] * 5})
    encoder = TextEncoder(tokenizer="fake", static_vectors=True, width=8, embed_dim=8, depth=1)
    model = MultiTaskClassifier(encoder=encoder, **FAST).fit(X, Y)
    path = tmp_path / "m.safetensors"
    skmtl.save(model, path)
    with safe_open(str(path), framework="pt") as f:
        vectors = [k for k in f.keys() if k.startswith("buffer.") and k.endswith(".vectors")]
    assert len(vectors) == 1  # the frozen table travels with the model (outside state_dict)
    loaded = skmtl.load(path)
    _assert_same_predictions(loaded, model, X, assert_same)
    (key,) = vectors
    name = key[len("buffer.") :]
    assert torch.equal(loaded.module_.get_buffer(name), model.module_.get_buffer(name))
