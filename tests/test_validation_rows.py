"""``fit(..., validation_rows=...)``: a predefined validation set (e.g. an official dev split)."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import (
    MultiTaskClassifier,
    MultiTaskEstimator,
    MultiTaskRegressor,
    MultiTaskSeq2Seq,
    MultiTaskTagger,
)
from skmtl.encoders import TextEncoder

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def regression(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 5))
    Y = np.column_stack([X[:, 0] + 0.1 * rng.normal(size=n), X[:, 1] - X[:, 2]])
    return X, Y


def mask_every(n, k=4):
    return np.arange(n) % k == 0


FAST = dict(hidden_layer_sizes=(16,), max_epochs=6, batch_size=16, random_state=0)


def test_validation_rows_are_never_trained_on():
    X, Y = regression()
    Yc = (Y > 0).astype(int)
    m = mask_every(len(X))
    with_valid = MultiTaskClassifier(**FAST).fit(X, Yc, validation_rows=m)
    subset = MultiTaskClassifier(**FAST).fit(X[~m], Yc[~m])
    np.testing.assert_array_equal(with_valid.predict_proba(X), subset.predict_proba(X))
    # Their labels do not matter for training, only for the recorded scores.
    flipped = Yc.copy()
    flipped[m] = 1 - flipped[m]
    other = MultiTaskClassifier(**FAST).fit(X, flipped, validation_rows=m)
    np.testing.assert_array_equal(other.predict_proba(X), subset.predict_proba(X))
    scores = [e["valid_score"] for e in with_valid.history_]
    assert len(scores) == FAST["max_epochs"] and np.all(np.isfinite(scores))
    assert [e["valid_score"] for e in other.history_] != scores
    assert with_valid.best_epoch_ is None  # recorded, no early stopping


def test_early_stopping_uses_the_given_rows_and_restores_the_best_epoch():
    X, Y = regression(n=200)
    m = mask_every(len(X), 5)
    model = MultiTaskRegressor(
        **{**FAST, "max_epochs": 40}, early_stopping=True, n_iter_no_change=3
    ).fit(X, Y, validation_rows=m)
    scores = [e["valid_score"] for e in model.history_]
    assert model.best_epoch_ == int(np.argmax(scores)) + 1
    # The same rows as indices give the same model.
    again = MultiTaskRegressor(
        **{**FAST, "max_epochs": 40}, early_stopping=True, n_iter_no_change=3
    ).fit(X, Y, validation_rows=np.flatnonzero(m))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    # validation_fraction is not used when rows are given.
    other = MultiTaskRegressor(
        **{**FAST, "max_epochs": 40},
        early_stopping=True,
        n_iter_no_change=3,
        validation_fraction=0.5,
    ).fit(X, Y, validation_rows=m)
    np.testing.assert_array_equal(other.predict(X), model.predict(X))


def test_in_a_pipeline_and_with_metadata_routing():
    X, Y = regression()
    m = mask_every(len(X))
    pipe = make_pipeline(StandardScaler(), MultiTaskRegressor(**FAST, early_stopping=True))
    pipe.fit(X, Y, multitaskregressor__validation_rows=m)
    assert "valid_score" in pipe[-1].history_[-1]
    with sklearn.config_context(enable_metadata_routing=True):
        est = MultiTaskRegressor(**FAST, early_stopping=True).set_fit_request(validation_rows=True)
        routed = make_pipeline(StandardScaler(), est).fit(X, Y, validation_rows=m)
    np.testing.assert_allclose(routed.predict(X), pipe.predict(X))


def test_grid_search_splits_the_rows_with_the_folds():
    X, Y = regression(n=160)
    m = mask_every(len(X))
    search = GridSearchCV(
        MultiTaskRegressor(**FAST, early_stopping=True),
        {"learning_rate": [1e-3, 1e-2]},
        cv=KFold(2, shuffle=True, random_state=0),
    ).fit(X, Y, validation_rows=m)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert "valid_score" in search.best_estimator_.history_[-1]


@pytest.mark.parametrize(
    "rows, match",
    [
        (np.ones(5, dtype=bool), "one entry per row"),
        (np.array([0, 0, 1]), "more than once"),
        (np.array([0, 500]), "outside"),
        (np.ones(120, dtype=bool), "at least one row to validate on and one to train on"),
        (np.zeros(120, dtype=bool), "at least one row"),
        (np.array([0.5, 1.5]), "boolean mask"),
    ],
)
def test_bad_validation_rows_get_clear_errors_and_leave_the_model(rows, match):
    X, Y = regression()
    model = MultiTaskRegressor(**FAST).fit(X, Y)
    before = model.predict(X)
    rows_copy = rows.copy()
    with pytest.raises(ValueError, match=match):
        model.fit(X, Y, validation_rows=rows)
    np.testing.assert_array_equal(model.predict(X), before)
    np.testing.assert_array_equal(rows, rows_copy)


def _estimators():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 4))
    Yc = pd.DataFrame({"a": (X[:, 0] > 0).astype(int), "b": (X[:, 1] > 0).astype(int)})
    texts = ["good film", "bad movie", "great plot", "awful acting"] * 10
    Yt = {"s": [1, 0, 1, 0] * 10, "r": rng.normal(size=40)}
    tokens = [["the", "cat", "sat"], ["a", "dog", "ran", "far"]] * 12
    Yg = {
        "pos": [["D", "N", "V"], ["D", "N", "V", "A"]] * 12,
        "ner": [["O", "B", "O"], ["O", "O", "O", "B"]] * 12,
    }
    src = ["ein hund", "eine katze", "der mann", "die frau"] * 20
    Ys = {"en": ["a dog", "a cat", "the man", "the woman"] * 20}
    small = dict(
        d_model=16, encoder_layers=1, decoder_layers=1, n_heads=2, ff_dim=16, vocab_size=300
    )
    return {
        "classifier": (MultiTaskClassifier(hidden_layer_sizes=(8,)), X, Yc),
        "mixed": (MultiTaskEstimator(hidden_layer_sizes=(8,)), X, Yc),
        "text": (MultiTaskEstimator(encoder=TextEncoder(width=16)), texts, Yt),
        "tagger": (MultiTaskTagger(), tokens, Yg),
        "seq2seq": (MultiTaskSeq2Seq(**small, max_length=4), src, Ys),
    }


@pytest.mark.parametrize("name", list(_estimators()))
def test_every_estimator_takes_validation_rows(name):
    model, X, Y = _estimators()[name]
    n = len(X)
    m = mask_every(n)
    model.set_params(max_epochs=3, random_state=0, early_stopping=True, n_iter_no_change=5)
    model.fit(X, Y, validation_rows=m)
    history = model.history_
    assert len(history) == 3 and all(np.isfinite(e["valid_score"]) for e in history)
    assert set(history[-1]["task_valid_score"]) == set(model.tasks_)
    model.predict(X[:2])


def test_add_tasks_takes_validation_rows_too():
    X, Y = regression()
    frame = pd.DataFrame({"a": Y[:, 0]})
    new = pd.DataFrame({"b": (Y[:, 1] > 0).astype(int)})
    m = mask_every(len(X))
    base = MultiTaskEstimator(**FAST).fit(X, frame)
    with_valid = base.__class__(**FAST).fit(X, frame).add_tasks(X, new, validation_rows=m)
    subset = base.__class__(**FAST).fit(X, frame).add_tasks(X[~m], new[~m])
    np.testing.assert_array_equal(with_valid.predict(X)["b"], subset.predict(X)["b"])
    added = with_valid.history_[FAST["max_epochs"] :]
    assert len(added) == FAST["max_epochs"]
    assert all(np.isfinite(e["valid_score"]) for e in added)
    early = (
        MultiTaskEstimator(**{**FAST, "max_epochs": 30}, early_stopping=True, n_iter_no_change=2)
        .fit(X, frame, validation_rows=m)
        .add_tasks(X, new, validation_rows=m)
    )
    assert set(early.history_[-1]["task_valid_score"]) == {"b"}
    with pytest.raises(ValueError, match="validation_rows"):
        base.add_tasks(X, new, validation_rows=np.ones(3, dtype=bool))
    assert list(base.tasks_) == ["a"]  # the failed call left the model as it was
