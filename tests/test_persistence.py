"""Fitted models survive pickle and joblib, and keep no training data."""

from __future__ import annotations

import copy
import io
import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone

from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor
from skmtl.weighting import UncertaintyWeighting


def _pickle(model):
    return pickle.loads(pickle.dumps(model))


def _joblib(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _assert_same_outputs(a, b, X):
    pa, pb = a.predict(X), b.predict(X)
    if isinstance(pa, dict):
        for key in pa:
            np.testing.assert_array_equal(pa[key], pb[key])
    elif hasattr(pa, "columns"):
        assert pa.equals(pb)
    else:
        np.testing.assert_array_equal(pa, pb)
    if hasattr(a, "predict_proba"):
        for x, y in zip(a.predict_proba(X), b.predict_proba(X), strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("roundtrip", [_pickle, _joblib])
def test_round_trip_gives_identical_predictions(X, Y, Y_frame, fast, roundtrip):
    models = [
        (MultiTaskClassifier(**fast, weighting=UncertaintyWeighting()).fit(X, Y), X),
        (MultiTaskEstimator(**fast).fit(X, Y_frame), X),
        (MultiTaskRegressor(**fast).fit(sp.csr_matrix(X), X[:, :2] * 5), sp.csr_matrix(X)),
    ]
    for model, Xp in models:
        loaded = roundtrip(model)
        _assert_same_outputs(model, loaded, Xp)
        if isinstance(model, MultiTaskEstimator):
            assert loaded.score(Xp, Y_frame) == model.score(Xp, Y_frame)
        assert loaded.history_[:, "train_loss"] == model.history_[:, "train_loss"]
        assert list(loaded.tasks_) == list(model.tasks_)


def test_round_trip_keeps_warm_start(X, Y, fast):
    model = MultiTaskClassifier(**fast, warm_start=True).fit(X, Y)
    loaded = _pickle(model)
    loaded.fit(X, Y)
    assert len(loaded.history_) == 2 * fast["max_epochs"]


def _arrays(obj, seen=None, path="model"):
    """Every array or tensor reachable from obj, with its path."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray | torch.Tensor):
        yield path, obj
    elif sp.issparse(obj):
        yield path, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _arrays(value, seen, f"{path}[{key!r}]")
    elif isinstance(obj, list | tuple | set | frozenset):
        for i, value in enumerate(obj):
            yield from _arrays(value, seen, f"{path}[{i}]")
    elif isinstance(obj, torch.nn.Module):
        yield from _arrays(obj.state_dict(), seen, f"{path}.state_dict()")
    elif isinstance(obj, torch.optim.Optimizer):
        yield from _arrays(obj.state_dict(), seen, f"{path}.state_dict()")
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        yield from _arrays(vars(obj), seen, path)
    elif hasattr(obj, "__dataclass_fields__"):
        for name in obj.__dataclass_fields__:
            yield from _arrays(getattr(obj, name), seen, f"{path}.{name}")


def test_fitted_model_holds_no_training_data(Y_frame, fast):
    rng = np.random.RandomState(0)
    n, d = len(Y_frame), 37
    X = rng.normal(size=(n, d))
    model = MultiTaskEstimator(
        **{**fast, "early_stopping": True, "n_iter_no_change": 2}, weighting=UncertaintyWeighting()
    ).fit(X, Y_frame)
    found = list(_arrays(model))
    assert any("body" in path for path, _ in found)  # the walk does see the weights
    for path, arr in found:
        assert n not in tuple(arr.shape), f"{path} has shape {tuple(arr.shape)}"
    # Far smaller than the data, and independent of the number of rows.
    X_big = np.tile(X, (20, 1))
    Y_big = Y_frame.loc[Y_frame.index.repeat(20)].reset_index(drop=True)
    params = {**fast, "max_epochs": 1}
    small_size = len(pickle.dumps(MultiTaskEstimator(**params).fit(X, Y_frame)))
    big_size = len(pickle.dumps(MultiTaskEstimator(**params).fit(X_big, Y_big)))
    assert big_size < X_big.nbytes / 10
    assert abs(big_size - small_size) < 0.05 * small_size


def test_deepcopy_clone_and_joblib_of_a_model_after_add_tasks(X, Y_frame, fast):
    model = MultiTaskEstimator(**fast, weighting=UncertaintyWeighting()).fit(
        X, Y_frame[["sentiment", "intensity"]]
    )
    model.add_tasks(X, Y_frame[["topic"]])
    for twin in (copy.deepcopy(model), _joblib(model), _pickle(model)):
        _assert_same_outputs(model, twin, X)
        assert twin.module_.build_groups == [["sentiment", "intensity"], ["topic"]]
        assert twin.module_ is not model.module_
    fresh = clone(model)
    assert fresh.get_params()["weighting__init_log_var"] == 0.0
    assert not hasattr(fresh, "module_")
