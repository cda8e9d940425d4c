"""Every sharing architecture with every estimator: features, text encoder, tagger;
add_tasks; both gradient-strategy modes; grid search over architecture parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskTagger
from skmtl.architectures import (
    CGC,
    PLE,
    CrossStitch,
    DSelectK,
    HardSharing,
    Hierarchical,
    MMoE,
)
from skmtl.encoders import TextEncoder
from skmtl.weighting import MGDA, PCGrad

ARCHITECTURES = {
    "hard": HardSharing(),
    "hierarchical": Hierarchical({"a": 1}),
    "cross_stitch": CrossStitch(),
    "mmoe": MMoE(n_experts=3),
    "cgc": CGC(n_shared_experts=2, n_task_experts=1),
    "ple": PLE(n_levels=2, n_shared_experts=2, n_task_experts=1),
    "dselect_k": DSelectK(n_experts=3, k=2),
}
IDS = list(ARCHITECTURES)


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(160, 6))
    Y = pd.DataFrame(
        {
            "a": np.where(X[:, 0] > 0, "pos", "neg"),
            "b": (X[:, 1] > 0).astype(int) + (X[:, 2] > 0),
            "c": X[:, 3] * 2.0,
        }
    )
    Y.loc[::4, "b"] = None
    return X, Y


def _mlp(arch, **kw):
    params = {"hidden_layer_sizes": (16, 8), "max_epochs": 3, "random_state": 0}
    return MultiTaskEstimator(architecture=clone(arch), **{**params, **kw})


@pytest.mark.parametrize("name", IDS)
@pytest.mark.parametrize("weighting", [None, PCGrad(), PCGrad(on="representation"), MGDA()])
def test_every_architecture_on_features(data, name, weighting):
    X, Y = data
    model = _mlp(ARCHITECTURES[name], weighting=weighting).fit(X, Y)
    pred = model.predict(X)
    assert list(pred.columns) == ["a", "b", "c"]
    assert np.isfinite(model.history_[:, "train_loss"]).all()
    assert np.isfinite(model.score(X, Y))
    # reproducible
    again = _mlp(ARCHITECTURES[name], weighting=weighting).fit(X, Y)
    pd.testing.assert_frame_equal(again.predict(X), pred)


@pytest.mark.parametrize("name", IDS)
def test_add_tasks_keeps_the_old_tasks(data, name):
    X, Y = data
    model = _mlp(ARCHITECTURES[name]).fit(X, Y[["a", "b"]])
    before = model.predict(X)
    state = {k: v.clone() for k, v in model.module_.state_dict().items()}
    model.add_tasks(X, Y[["c"]])
    after = model.predict(X)
    pd.testing.assert_frame_equal(after[["a", "b"]], before)
    new_state = model.module_.state_dict()
    for key, value in state.items():
        torch.testing.assert_close(new_state[key], value)
    losses = model.history_[-3:, "task_loss", "c"]  # the new head trains
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("name", IDS)
def test_every_architecture_over_a_text_encoder(name):
    rng = np.random.RandomState(0)
    words = np.array(["good", "bad", "fine", "awful", "great", "poor"])
    X = [" ".join(rng.choice(words, 5)) for _ in range(60)]
    Y = pd.DataFrame(
        {
            "a": ["pos" if ("good" in x or "great" in x) else "neg" for x in X],
            "b": [len(x) % 3 for x in X],
        }
    )
    encoder = TextEncoder(width=16, embed_dim=8, depth=2)
    model = MultiTaskClassifier(
        encoder=encoder,
        hidden_layer_sizes=(8,),
        architecture=clone(ARCHITECTURES[name]),
        max_epochs=2,
        random_state=0,
    ).fit(X, Y)
    assert model.predict(X).shape == (60, 2)
    assert [p.shape for p in model.predict_proba(X[:3])] == [(3, 2), (3, 3)]


TOY_X = [["I", "like", "Paris"], ["You", "run", "fast", "."], ["Go"], ["We", "see", "Rome"]] * 5
TOY_Y = pd.DataFrame(
    {
        "a": [
            ["PRON", "VERB", "PROPN"],
            ["PRON", "VERB", "ADV", "PUNCT"],
            ["VERB"],
            ["PRON", "VERB", "PROPN"],
        ]
        * 5,
        "b": [["O", "O", "B-LOC"], ["O", "O", "O", "O"], ["O"], ["O", "O", "B-LOC"]] * 5,
        "doc": ["x", "y", "y", "x"] * 5,
    }
)


@pytest.mark.parametrize("name", IDS)
@pytest.mark.parametrize("weighting", [None, PCGrad(on="representation")])
def test_every_architecture_in_the_tagger(name, weighting):
    model = MultiTaskTagger(
        TextEncoder(width=16, embed_dim=8, depth=2),
        architecture=clone(ARCHITECTURES[name]),
        weighting=weighting,
        crf=["b"],
        max_epochs=2,
        batch_size=8,
        random_state=0,
    ).fit(TOY_X, TOY_Y)
    pred = model.predict(TOY_X)
    assert [len(t) for t in pred["a"]] == [len(s) for s in TOY_X]
    assert set(pred["doc"]) <= {"x", "y"}
    before = model.predict(TOY_X)
    model.add_tasks(TOY_X, pd.DataFrame({"c": [["N"] * len(s) for s in TOY_X]}))
    after = model.predict(TOY_X)
    pd.testing.assert_frame_equal(after[["a", "b", "doc"]], before)


def test_hierarchical_reads_lower_layers_in_the_tagger():
    model = MultiTaskTagger(
        TextEncoder(width=16, embed_dim=8, depth=3),
        architecture=Hierarchical({"a": 1, "b": 3}),
        max_epochs=1,
        random_state=0,
    ).fit(TOY_X, TOY_Y[["a", "b"]])
    assert model.module_.body.layers == {"a": 1, "b": 3}


def test_grid_search_over_architecture_parameters(data):
    X, Y = data
    search = GridSearchCV(
        _mlp(MMoE()),
        {"architecture__n_experts": [1, 3], "task_weights__a": [1.0, 2.0]},
        cv=2,
        error_score="raise",
    ).fit(X, Y[["a", "c"]])
    tried = sorted({p["architecture__n_experts"] for p in search.cv_results_["params"]})
    assert tried == [1, 3]
    assert search.best_estimator_.architecture.n_experts in (1, 3)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize(
    "arch, match",
    [
        (PLE(n_levels=3), "n_levels"),
        (Hierarchical({"nope": 1}), "nope"),
        (Hierarchical({"a": 5}), "a"),
        (MMoE(n_experts=0), "n_experts"),
        ("mmoe", "architecture must be"),
    ],
)
def test_bad_architectures_are_named(data, arch, match):
    X, Y = data
    model = MultiTaskEstimator(hidden_layer_sizes=(8, 8), architecture=arch, max_epochs=1)
    with pytest.raises(ValueError, match=match):
        model.fit(X, Y)
