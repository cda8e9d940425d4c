"""Every public weighting strategy: cited, cloneable, saved and loaded, continued, sampled."""

from __future__ import annotations

import inspect
import re
import sys

import numpy as np
import pytest
from sklearn.base import clone

import skmtl
from skmtl import MultiTaskRegressor, weighting

pytestmark = pytest.mark.filterwarnings("ignore:Training stopped at max_epochs")

ABSTRACT = {"WeightingStrategy", "GradientAggregation", "conditioned"}
STRATEGIES = [getattr(weighting, n) for n in weighting.__all__ if n not in ABSTRACT]


def test_the_package_lists_every_strategy_module():
    names = {c.__name__ for c in STRATEGIES}
    # The strategies of issue 16 (LibMTL's and TorchJD's rest) are public.
    for name in (
        "GLS",
        "STCH",
        "IMTLL",
        "ExcessMTL",
        "FairGrad",
        "ConFIG",
        "DualProj",
        "MoCo",
        "MoDo",
        "SDMGrad",
        "AutoLambda",
    ):
        assert name in names
    assert len(STRATEGIES) >= 28


@pytest.mark.parametrize("cls", STRATEGIES, ids=lambda c: c.__name__)
def test_each_strategy_cites_its_paper_and_documents_its_parameters(cls):
    module = sys.modules[cls.__module__]
    if cls.__name__ not in ("EqualWeighting", "StaticWeighting"):
        assert re.search(r"(19|20)\d\d", module.__doc__), f"{cls.__name__}: no year cited"
    doc = inspect.getdoc(cls)
    assert "Examples" in doc
    for param in inspect.signature(cls).parameters:
        assert re.search(rf"^{param} :", doc, re.M), f"{cls.__name__}: {param} undocumented"


def data(n=48):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    Y = np.column_stack([X @ [1.0, 2.0, 0.0, 0.0], X @ [0.0, 1.0, -1.0, 0.5]])
    Y[np.arange(n) % 3 == 0, 1] = np.nan
    return X, Y


FAST = {"hidden_layer_sizes": (8,), "max_epochs": 2, "batch_size": 8, "random_state": 0}


@pytest.mark.parametrize("cls", STRATEGIES, ids=lambda c: c.__name__)
def test_each_strategy_saves_loads_and_continues(cls, tmp_path):
    X, Y = data()
    strategy = cls()
    assert clone(strategy).get_params() == strategy.get_params()
    model = MultiTaskRegressor(**FAST, weighting=strategy).fit(X, Y)
    path = tmp_path / "model.safetensors"
    skmtl.save(model, path)
    back = skmtl.load(path)
    assert type(back.weighting_) is cls
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    # A loaded model goes on training (warm start) exactly as the original does.
    model.set_params(warm_start=True).fit(X, Y)
    back.set_params(warm_start=True).fit(X, Y)
    np.testing.assert_allclose(back.predict(X), model.predict(X), rtol=1e-5, atol=1e-6)
    assert len(back.history_) == 4
