"""Raw text in one line: estimators with a TextEncoder trunk, trained end to end."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor
from skmtl.encoders import TextEncoder
from skmtl.metrics import multitask_scorers

POSITIVE = ["good movie", "great plot and good acting", "i loved it", "good fun", "great"]
NEGATIVE = ["bad movie", "awful plot and bad acting", "i hated it", "bad, boring", "awful"]


@pytest.fixture
def texts():
    rng = np.random.RandomState(0)
    pos = [POSITIVE[i] for i in rng.randint(len(POSITIVE), size=40)]
    neg = [NEGATIVE[i] for i in rng.randint(len(NEGATIVE), size=40)]
    X = pos + neg
    Y = pd.DataFrame(
        {
            "sentiment": ["pos"] * 40 + ["neg"] * 40,
            "aspects": [tuple(a for a in ("plot", "acting") if a in t) for t in X],
        }
    )
    return X, Y


def encoder(architecture="cnn"):
    return TextEncoder(architecture=architecture, embed_dim=16, width=16, depth=1, max_length=16)


def small(cls=MultiTaskClassifier, architecture="cnn", **kw):
    params = dict(
        encoder=encoder(architecture),
        hidden_layer_sizes=(),
        learning_rate=1e-2,
        max_epochs=15,
        batch_size=16,
        random_state=0,
    )
    params.update(kw)
    return cls(**params)


@pytest.mark.parametrize("architecture", ["cnn", "bilstm", "transformer"])
def test_fit_raw_text_learns(texts, architecture):
    X, Y = texts
    model = small(architecture=architecture).fit(X, Y)
    pred = model.predict(["good acting", "bad plot"])
    assert list(pred.columns) == ["sentiment", "aspects"]
    assert list(pred["sentiment"]) == ["pos", "neg"]
    assert model.score(X, Y) > 0.8
    assert not hasattr(model, "n_features_in_")
    assert model.encoder_ is not model.encoder  # the user's spec object is cloned, not trained


def test_regressor_and_mixed_take_text(texts):
    X, Y = texts
    score = np.array([1.0 if s == "pos" else -1.0 for s in Y["sentiment"]])
    reg = small(MultiTaskRegressor).fit(X, pd.DataFrame({"score": score}))
    assert reg.predict(["good fun"])["score"].iloc[0] > reg.predict(["awful"])["score"].iloc[0]
    mixed = small(MultiTaskEstimator).fit(X, Y.assign(score=score))
    assert set(mixed.predict(X[:3]).columns) == {"sentiment", "aspects", "score"}


def test_grid_search_and_cross_validate_on_raw_text(texts):
    X, Y = texts
    scoring = multitask_scorers({"sentiment": "accuracy", "aspects": "f1_macro"})
    search = GridSearchCV(
        small(max_epochs=3),
        {"task_weights__aspects": [0.5, 2.0]},
        scoring=scoring,
        refit="mean",
        cv=KFold(2, shuffle=True, random_state=0),
        error_score="raise",
    ).fit(X, Y)
    assert search.best_params_["task_weights__aspects"] in (0.5, 2.0)
    result = cross_validate(
        small(max_epochs=3),
        X,
        Y,
        scoring=scoring,
        cv=KFold(2, shuffle=True, random_state=0),
        error_score="raise",
    )
    assert np.all(np.isfinite(result["test_mean"]))


def test_pickle_clone_and_transfer(texts):
    X, Y = texts
    model = small(max_epochs=3).fit(X, Y[["sentiment"]])
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.predict(X), model.predict(X))
    assert clone(model).get_params()["encoder"].get_params() == encoder().get_params()
    model.add_tasks(X, Y[["aspects"]])
    assert list(model.predict(X[:2]).columns) == ["sentiment", "aspects"]


@pytest.mark.parametrize(
    "bad, message",
    [
        (["good", None, "bad"], r"X\[1\]"),
        (["good", 3, "bad"], r"X\[1\]"),
        (["good", float("nan"), "bad"], r"X\[1\]"),
        ("a single string", "string"),
    ],
)
def test_bad_text_input(texts, bad, message):
    X, Y = texts
    with pytest.raises(ValueError, match=message):
        small(max_epochs=1).fit(bad, Y.iloc[: len(bad)] if not isinstance(bad, str) else Y)


def test_empty_and_very_long_texts(texts):
    X, Y = texts
    model = small(max_epochs=2).fit(X, Y)
    pred = model.predict(["", "good " * 400_000])
    assert len(pred) == 2
    proba = model.predict_proba([""])[0]
    assert np.all(np.isfinite(proba))


def test_length_mismatch_names_both(texts):
    X, Y = texts
    with pytest.raises(ValueError, match=r"X has 79 samples but Y has 80 rows"):
        small(max_epochs=1).fit(X[:-1], Y)
