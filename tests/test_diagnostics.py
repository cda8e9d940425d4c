"""Gradient recording (record_gradients) and skmtl.diagnostics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor
from skmtl.diagnostics import (
    relative_gain,
    single_task_baselines,
    suggest_task_groups,
    task_affinity,
)
from skmtl.metrics import task_score


@pytest.fixture
def linear():
    """A toy problem: "a" and "b" share structure, "c" depends on other features.

    (An opposite target -a would not conflict: its own head just negates.)
    """
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5))
    a = X @ [1.0, 0.5, 0.0, 0.0, 0.0]
    return X, pd.DataFrame({"a": a, "b": a + 0.1 * X[:, 2], "c": X[:, 3] * X[:, 4]})


# ------------------------------------------------------------ record_gradients


def test_record_gradients_default_and_false_leave_training_unchanged(X, Y, fast):
    kw = dict(fast, dropout=0.2, normalization="batch", early_stopping=True)
    default = MultiTaskClassifier(**kw).fit(X, Y)
    off = MultiTaskClassifier(**kw, record_gradients=False).fit(X, Y)
    assert default.get_params()["record_gradients"] is False
    assert default.history_[:, "train_loss"] == off.history_[:, "train_loss"]
    assert "grad_norm" not in off.history_[-1]
    for p, q in zip(default.predict_proba(X), off.predict_proba(X), strict=True):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("kw", [{}, {"dropout": 0.3, "normalization": "batch"}])
def test_record_gradients_does_not_change_the_optimisation(X, Y_frame, fast, kw):
    off = MultiTaskEstimator(**fast, **kw).fit(X, Y_frame)
    on = MultiTaskEstimator(**fast, **kw, record_gradients=True).fit(X, Y_frame)
    assert on.history_[:, "train_loss"] == off.history_[:, "train_loss"]
    assert on.history_[:, "task_loss"] == off.history_[:, "task_loss"]
    pd.testing.assert_frame_equal(on.predict(X), off.predict(X))
    assert on.module_.training == off.module_.training
    for (name, p), q in zip(on.module_.named_parameters(), off.module_.parameters(), strict=True):
        assert (p.grad is None) == (q.grad is None), name
        if p.grad is not None:  # the last training step's gradients, untouched
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_recorded_gradient_norms_and_cosines(X, Y_frame, fast):
    model = MultiTaskEstimator(**fast, record_gradients=True).fit(X, Y_frame)
    names = list(Y_frame.columns)
    pairs = [f"{a}|{b}" for i, a in enumerate(names) for b in names[i + 1 :]]
    assert len(model.history_) == fast["max_epochs"]
    for record in model.history_:
        assert list(record["grad_norm"]) == names
        assert all(np.isfinite(v) and v > 0 for v in record["grad_norm"].values())
        assert list(record["grad_cosine"]) == pairs
        assert all(-1 <= v <= 1 for v in record["grad_cosine"].values())
    assert len(model.history_[:, "grad_norm", "topic"]) == fast["max_epochs"]


def test_task_absent_from_probe_batch_gives_nan(X, fast):
    Y = pd.DataFrame({"a": X[:, 0], "b": X[:, 1]})
    Y.loc[: fast["batch_size"] - 1, "b"] = np.nan  # the probe = the first batch_size rows
    model = MultiTaskRegressor(**fast, record_gradients=True).fit(X, Y)
    record = model.history_[-1]
    assert record["grad_norm"]["a"] > 0
    assert np.isnan(record["grad_norm"]["b"])
    assert np.isnan(record["grad_cosine"]["a|b"])


def test_cosine_of_identical_and_opposite_tasks(linear):
    """Same target -> cosine 1; opposite target -> cosine -1 (heads tied, outputs ~0)."""
    X, Y = linear
    Y = pd.DataFrame({"a": Y["a"], "same": Y["a"], "opposite": -Y["a"]})
    model = MultiTaskRegressor(
        hidden_layer_sizes=(16,), max_epochs=1, random_state=0, warm_start=True
    ).fit(X, Y)
    # Tie every head to one small linear map: the task gradients on the trunk are
    # then J^T w (f - y_t) with f ~ 0, i.e. parallel to +-J^T w y.
    torch = pytest.importorskip("torch")
    w = 1e-3 * torch.randn(1, 16, generator=torch.Generator().manual_seed(0))
    for name in Y:
        layer = model.module_.head(name).layers[-1]
        with torch.no_grad():
            layer.weight.copy_(w)
            layer.bias.zero_()
    model.set_params(learning_rate=1e-12, record_gradients=True).fit(X, Y)
    record = model.history_[-1]
    assert record["grad_cosine"]["a|same"] == pytest.approx(1.0, abs=1e-6)
    assert record["grad_cosine"]["a|opposite"] == pytest.approx(-1.0, abs=1e-2)
    assert record["grad_cosine"]["same|opposite"] == pytest.approx(-1.0, abs=1e-2)
    assert record["grad_norm"]["a"] == pytest.approx(record["grad_norm"]["same"], rel=1e-6)


# ------------------------------------------------------------ task_affinity


def test_task_affinity_ranks_related_over_conflicting(linear):
    X, Y = linear
    model = MultiTaskRegressor(
        hidden_layer_sizes=(16,), max_epochs=10, learning_rate=0.01, batch_size=64, random_state=0
    )
    A = task_affinity(model, X, Y, n_steps=10, lookahead_lr=0.05, random_state=0)
    assert list(A.index) == list(A.columns) == ["a", "b", "c"]
    assert A.index.name == "source" and A.columns.name == "target"
    assert np.isfinite(A.to_numpy()).all()
    assert A.loc["a", "b"] > 0
    assert A.loc["a", "b"] > A.loc["a", "c"]
    assert A.loc["b", "a"] > A.loc["b", "c"]
    assert not hasattr(model, "module_")  # the unfitted estimator is not fitted


def test_task_affinity_leaves_a_fitted_model_unchanged(linear):
    X, Y = linear
    model = MultiTaskRegressor(
        hidden_layer_sizes=(16,),
        dropout=0.2,
        max_epochs=10,
        learning_rate=0.01,
        batch_size=64,
        random_state=0,
    ).fit(X, Y)
    model.module_.train()
    state = {k: v.clone() for k, v in model.module_.state_dict().items()}
    grads = [None if p.grad is None else p.grad.clone() for p in model.module_.parameters()]
    before = model.predict(X)
    A = task_affinity(model, X, Y, n_steps=3, lookahead_lr=0.05, random_state=0)
    assert A.loc["a", "b"] > A.loc["a", "c"]
    after_state = model.module_.state_dict()
    for k, v in state.items():
        np.testing.assert_array_equal(v.numpy(), after_state[k].numpy(), err_msg=k)
    for g, p in zip(grads, model.module_.parameters(), strict=True):
        assert (g is None) == (p.grad is None)
        if g is not None:
            np.testing.assert_array_equal(g.numpy(), p.grad.numpy())
    assert all(p.requires_grad for p in model.module_.parameters())
    pd.testing.assert_frame_equal(before, model.predict(X))
    # same random_state, same batches: deterministic
    again = task_affinity(model, X, Y, n_steps=3, lookahead_lr=0.05, random_state=0)
    pd.testing.assert_frame_equal(A, again)


def test_task_affinity_validates(linear):
    X, Y = linear
    model = MultiTaskRegressor(max_epochs=1)
    with pytest.raises(ValueError, match="n_steps"):
        task_affinity(model, X, Y, n_steps=0)
    with pytest.raises(ValueError, match="lookahead_lr"):
        task_affinity(model, X, Y, lookahead_lr=-1.0)


# ------------------------------------------------------------ suggest_task_groups


def test_suggest_task_groups_recovers_the_groups():
    names = ["a", "c", "b"]
    A = pd.DataFrame(
        [[0.5, -0.2, 0.4], [-0.3, 0.5, -0.1], [0.3, -0.2, 0.5]], index=names, columns=names
    )
    assert suggest_task_groups(A, 2) == [["a", "b"], ["c"]]
    assert suggest_task_groups(A, 1) == [["a", "c", "b"]]
    assert suggest_task_groups(A, 3) == [["a"], ["c"], ["b"]]
    # an array: tasks named by position
    assert suggest_task_groups(A.to_numpy(), 2) == [["0", "2"], ["1"]]


def test_suggest_task_groups_four_tasks_two_pairs():
    rng = np.random.RandomState(0)
    A = rng.uniform(-0.1, 0.0, size=(4, 4))
    A[0, 3] = A[3, 0] = 0.5
    A[1, 2] = A[2, 1] = 0.4
    assert suggest_task_groups(A, 2) == [["0", "3"], ["1", "2"]]


def test_suggest_task_groups_errors():
    big = pd.DataFrame(np.zeros((9, 9)), index=list("abcdefghi"), columns=list("abcdefghi"))
    with pytest.raises(ValueError, match="8 tasks"):
        suggest_task_groups(big, 2)
    with pytest.raises(ValueError, match="n_groups"):
        suggest_task_groups(np.zeros((3, 3)), 4)
    with pytest.raises(ValueError, match="square"):
        suggest_task_groups(np.zeros((2, 3)), 1)


# ------------------------------------------------------------ relative_gain


def test_relative_gain_hand_example():
    gain = relative_gain(
        {"acc": 0.9, "r2": 0.45, "rmse": 0.8},
        {"acc": 0.8, "r2": 0.5, "rmse": 1.0},
        higher_is_better={"acc": True, "r2": True, "rmse": False},
    )
    assert gain["per_task"] == pytest.approx({"acc": 0.125, "r2": -0.1, "rmse": 0.2})
    assert gain["delta_m"] == pytest.approx((0.125 - 0.1 + 0.2) / 3)
    assert list(gain["per_task"]) == ["acc", "r2", "rmse"]
    # default: higher is better everywhere; lower-is-better flips the sign
    assert relative_gain({"x": 2.0}, {"x": 1.0})["delta_m"] == pytest.approx(1.0)
    assert relative_gain({"x": 2.0}, {"x": 1.0}, False)["delta_m"] == pytest.approx(-1.0)
    # a negative baseline (R^2 < 0) does not flip the sign
    assert relative_gain({"x": 0.0}, {"x": -0.5})["delta_m"] == pytest.approx(1.0)
    assert np.isnan(relative_gain({"x": 1.0}, {"x": 0.0})["delta_m"])
    with pytest.raises(ValueError, match="same tasks"):
        relative_gain({"x": 1.0}, {"y": 1.0})
    with pytest.raises(ValueError, match="higher_is_better"):
        relative_gain({"x": 1.0}, {"x": 1.0}, {"y": True})


# ------------------------------------------------------------ single_task_baselines


def test_single_task_baselines(X, Y_frame, fast):
    model = MultiTaskEstimator(**fast, task_weights={"topic": 2.0}, class_weight="balanced")
    train, test = slice(0, 90), slice(90, None)
    report, fitted = single_task_baselines(
        model,
        X[train],
        Y_frame[train],
        X[test],
        Y_frame[test].reset_index(drop=True),
        metrics={"tags": "f1_micro"},
        return_estimators=True,
    )
    assert list(report.index) == list(Y_frame.columns)
    assert list(report.columns) == [
        "metric",
        "mtl_score",
        "single_task_score",
        "relative_gain",
        "single_task_fit_time",
    ]
    assert report["metric"].tolist() == ["accuracy", "accuracy", "f1_micro", "r2"]
    assert not hasattr(model, "module_")
    mtl = fitted["mtl"]
    pred = mtl.predict(X[test])
    for task, row in report.iterrows():
        expected = task_score(Y_frame[test][task], pred[task], row["metric"])
        assert row["mtl_score"] == pytest.approx(expected)
        single = fitted["single_task"][task]
        assert list(single.tasks_) == [task]
        st_expected = task_score(Y_frame[test][task], single.predict(X[test])[task], row["metric"])
        assert row["single_task_score"] == pytest.approx(st_expected)
        gain = (row["mtl_score"] - row["single_task_score"]) / abs(row["single_task_score"])
        assert row["relative_gain"] == pytest.approx(gain)
        assert row["single_task_fit_time"] > 0
    assert report.attrs["delta_m"] == pytest.approx(report["relative_gain"].mean())
    assert report.attrs["single_task_fit_time"] == pytest.approx(
        report["single_task_fit_time"].sum()
    )
    assert report.attrs["fit_time_ratio"] == pytest.approx(
        report.attrs["mtl_fit_time"] / report.attrs["single_task_fit_time"]
    )


def test_single_task_baselines_array_targets(X, Y, fast):
    report = single_task_baselines(MultiTaskClassifier(**fast), X[:90], Y[:90], X[90:], Y[90:])
    assert list(report.index) == ["0", "1"]
    assert report["metric"].tolist() == ["accuracy", "accuracy"]
    assert report["mtl_score"].between(0, 1).all()
    with pytest.raises(ValueError, match="two or more tasks"):
        single_task_baselines(MultiTaskClassifier(**fast), X, Y[:, 0], X, Y[:, 0])
