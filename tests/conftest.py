"""Shared fixtures of the estimator tests: tiny seeded data and fast settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from skmtl.utils import is_missing


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Train the tiny test models on one thread.

    With several intra-op threads on a busy machine, a 5-epoch fit of 120 rows
    can take seconds instead of milliseconds (threads spin waiting for cores).
    """
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.fixture
def fast():
    """Estimator settings that train in a few milliseconds."""
    return {"hidden_layer_sizes": (8,), "max_epochs": 5, "batch_size": 32, "random_state": 0}


@pytest.fixture
def X():
    return np.random.RandomState(0).normal(size=(120, 6))


@pytest.fixture
def Y(X):
    """Two classification tasks: binary (task "0") and 3-class (task "1")."""
    return np.column_stack([X[:, 0] > 0, (X[:, 1] > 0).astype(int) + (X[:, 2] > 0)]).astype(int)


@pytest.fixture
def Y_frame(X):
    """One task of each type, named, with a missing cell in every column."""
    Y = pd.DataFrame(
        {
            "sentiment": np.where(X[:, 0] > 0, "pos", "neg").astype(object),
            "topic": np.array(["a", "b", "c"], dtype=object)[
                (X[:, 1] > 0).astype(int) + (X[:, 2] > 0)
            ],
            "tags": [
                tuple(t for t, on in zip("xyz", row, strict=True) if on) for row in X[:, 3:] > 0
            ],
            "intensity": X[:, 3] * 2.0 + 1.0,
        }
    )
    Y.loc[1, "sentiment"] = None
    Y.loc[2, "topic"] = np.nan
    Y.loc[3, "tags"] = None
    Y.loc[4, "intensity"] = np.nan
    return Y


def _assert_same(a, b, path="value"):
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(b, pd.DataFrame | pd.Series):
        if isinstance(b, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, obj=path)
        else:
            pd.testing.assert_series_equal(a, b, obj=path)
    elif isinstance(b, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for key in b:
            _assert_same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(b, list | tuple):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{path}[{i}]")
    elif isinstance(b, np.ndarray):
        assert (a.dtype, a.shape) == (b.dtype, b.shape), f"{path}: dtype or shape changed"
        if b.dtype == object:
            for i, (x, y) in enumerate(zip(a.ravel(), b.ravel(), strict=True)):
                _assert_same(x, y, f"{path}.flat[{i}]")
        else:
            np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(b, float) and np.isnan(b):
        assert isinstance(a, float) and np.isnan(a), f"{path}: {a!r} != nan"
    elif is_missing(b):
        assert type(a) is type(b), f"{path}: {a!r} != {b!r}"
    elif hasattr(b, "get_params"):
        _assert_same(a.get_params(deep=True), b.get_params(deep=True), f"{path}.get_params()")
    elif hasattr(b, "toarray"):  # scipy sparse
        assert a.format == b.format and a.dtype == b.dtype, f"{path}: sparse format changed"
        np.testing.assert_array_equal(a.toarray(), b.toarray(), err_msg=path)
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.fixture
def assert_same():
    """Deep equality of user inputs (arrays, frames, dicts, NaN-aware)."""
    return _assert_same
