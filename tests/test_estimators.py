"""Behaviour of the estimators: input formats, model structure, weights, training."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from torch import nn

from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor, PerTask
from skmtl.base import BaseMultiTaskEstimator
from skmtl.weighting import EqualWeighting, UncertaintyWeighting

# ---------------------------------------------------------------- X formats


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_and_dense_X_give_the_same_model(X, Y, fast, fmt):
    dense = MultiTaskClassifier(**fast).fit(X, Y)
    Xs = sp.csr_matrix(X).asformat(fmt)
    sparse = MultiTaskClassifier(**fast).fit(Xs, Y)
    for got, want in zip(sparse.predict_proba(Xs), dense.predict_proba(X), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_array_equal(sparse.predict(Xs), dense.predict(X))
    # Either model predicts either format alike.
    np.testing.assert_array_equal(dense.predict(Xs), dense.predict(X))


_HUGE_SPARSE = textwrap.dedent(
    """
    import resource
    limit = 6 * 2**30  # the dense X would need 16 GB (8 GB as float32)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import numpy as np, scipy.sparse as sp, torch
    from skmtl import MultiTaskClassifier
    torch.set_num_threads(1)
    rng = np.random.RandomState(0)
    n, d, k = 2_000, 2_000_000, 5
    rows, cols = np.repeat(np.arange(n), k), rng.randint(0, d, n * k)
    X = sp.csr_matrix((np.ones(n * k, np.float32), (rows, cols)), shape=(n, d))
    Y = np.column_stack([rng.randint(0, 2, n), rng.randint(0, 3, n)])
    model = MultiTaskClassifier(hidden_layer_sizes=(2,), max_epochs=1, batch_size=1000,
                                random_state=0).fit(X, Y)
    assert model.n_features_in_ == d
    assert model.predict(X[:7]).shape == (7, 2)
    try:
        X.toarray()
    except MemoryError:
        print("OK")  # densifying does fail under this limit
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="needs RLIMIT_AS")
def test_wide_sparse_X_is_never_densified():
    result = subprocess.run(
        [sys.executable, "-c", _HUGE_SPARSE],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("OK")


# ---------------------------------------------------------------- model structure


def _layers(module, kind):
    return [m for m in module.modules() if isinstance(m, kind)]


def test_trunk_and_head_parameters_shape_the_module(X, Y, fast):
    model = MultiTaskClassifier(
        **{**fast, "hidden_layer_sizes": (16, 8), "max_epochs": 1},
        activation="tanh",
        dropout=0.25,
        normalization="layer",
        head_hidden_layer_sizes=(5,),
    ).fit(X, Y)
    trunk = model.module_.body  # hard sharing: the shared blocks
    assert trunk.blocks.blocks[0].layers[0].weight.shape == (X.shape[1], 16)  # sparse-aware
    assert [m.out_features for m in _layers(trunk, nn.Linear)] == [8]
    assert len(_layers(trunk, nn.LayerNorm)) == 2
    assert len(_layers(trunk, nn.Tanh)) == 2
    assert [m.p for m in _layers(trunk, nn.Dropout)] == [0.25, 0.25]
    assert not _layers(trunk, nn.ReLU)
    heads = model.module_.heads
    assert len(heads) == 2
    for head, n_out in zip(heads.values(), (2, 3), strict=True):
        assert [(m.in_features, m.out_features) for m in _layers(head, nn.Linear)] == [
            (8, 5),
            (5, n_out),
        ]
        assert len(_layers(head, nn.Tanh)) == 1

    plain = MultiTaskClassifier(**fast, normalization="batch").fit(X, Y)
    assert len(_layers(plain.module_.body, nn.BatchNorm1d)) == 1
    assert not _layers(plain.module_.body, nn.Dropout)
    assert [len(_layers(h, nn.Linear)) for h in plain.module_.heads.values()] == [1, 1]


def test_batch_normalization_trains_with_a_last_batch_of_one_row(X, Y, fast):
    model = MultiTaskClassifier(**{**fast, "batch_size": 17}, normalization="batch")
    model.fit(X[:35], Y[:35])  # batches of 17, 17 and 1
    assert np.all(np.isfinite(model.history_[:, "train_loss"]))


# ---------------------------------------------------------------- task weights


@pytest.fixture
def init_states(monkeypatch):
    """Record a copy of every module's initial state when it is built."""
    states = []
    build = BaseMultiTaskEstimator._build_network

    def recording(self, *args, **kwargs):
        module, weighting = build(self, *args, **kwargs)
        states.append(copy.deepcopy(module.state_dict()))
        return module, weighting

    monkeypatch.setattr(BaseMultiTaskEstimator, "_build_network", recording)
    return states


@pytest.mark.parametrize("task_weights", [{"1": 0}, [1.0, 0.0], np.array([2.0, 0.0])])
def test_zero_task_weight_gives_its_head_no_gradient(X, Y, fast, init_states, task_weights):
    model = MultiTaskClassifier(**fast, task_weights=task_weights, weight_decay=0.0).fit(X, Y)
    (init,) = init_states
    final = model.module_.state_dict()
    for key in final:
        if key.startswith("heads.t1."):
            torch.testing.assert_close(final[key], init[key], rtol=0, atol=0)
        elif key.startswith(("heads.t0.", "body.")):
            assert not torch.equal(final[key], init[key]), key
    assert model.history_[-1, "task_weight"]["1"] == 0.0


def test_task_weights_change_the_model_and_history_reports_them(X, Y, fast):
    base = MultiTaskClassifier(**fast).fit(X, Y)
    heavy = MultiTaskClassifier(**fast, task_weights={"0": 3.0, "1": 0.5}).fit(X, Y)
    assert not np.allclose(base.predict_proba(X)[1], heavy.predict_proba(X)[1])
    for record in heavy.history_:
        assert record["task_weight"] == pytest.approx({"0": 3.0, "1": 0.5})
    # The total loss is the weighted sum the strategy built.
    for record in heavy.history_:
        assert record["train_loss"] > 0


def test_set_params_per_task_copies_and_clones():
    weights = {"a": 1.0, "b": 2.0}
    model = MultiTaskClassifier(task_weights=weights)
    assert model.set_params(task_weights__b=0.1) is model
    assert weights == {"a": 1.0, "b": 2.0}  # the user's dict is not mutated
    assert model.task_weights == {"a": 1.0, "b": 0.1}
    assert model.get_params()["task_weights"] == {"a": 1.0, "b": 0.1}
    cloned = clone(model)
    assert cloned.task_weights == {"a": 1.0, "b": 0.1}
    # From None and for the other per-task parameters.
    fresh = MultiTaskClassifier().set_params(task_weights__b=3, class_weight__a="balanced")
    assert fresh.task_weights == {"b": 3}
    assert fresh.class_weight == {"a": "balanced"}
    thr = MultiTaskClassifier(threshold=0.4).set_params(threshold__t=0.2)
    assert thr.threshold == PerTask({"t": 0.2}, default=0.4)  # the scalar stays the default
    assert clone(thr).get_params()["threshold"] == PerTask({"t": 0.2}, default=0.4)


def test_uncertainty_weighting_trains_and_reports_its_weights(X, Y, fast):
    weighting = UncertaintyWeighting(init_log_var=1.0)
    model = MultiTaskClassifier(**fast, weighting=weighting).fit(X, Y)
    assert "weighting__init_log_var" in model.get_params()
    assert model.weighting_ is not weighting and isinstance(model.weighting_, UncertaintyWeighting)
    assert not hasattr(weighting, "task_names_")  # the user's object is not fitted
    log_var = model.module_.weighting.log_var.detach().numpy()
    assert not np.allclose(log_var, 1.0)  # the log-variances were learned
    first = model.history_[0, "task_weight"]
    assert first["0"] == pytest.approx(0.5 * np.exp(-1.0), rel=0.05)
    last = model.history_[-1, "task_weight"]
    # The reported weight is the mean of 0.5 exp(-s_t) over the last epoch's steps,
    # close to the value at its end.
    for i, name in enumerate(["0", "1"]):
        assert last[name] == pytest.approx(0.5 * np.exp(-log_var[i]), rel=0.05)


def test_uncertainty_weighting_reports_weights_of_present_tasks_only(X, Y, fast):
    Y = Y.astype(float)
    Y[10:, 1] = np.nan  # most batches of 8 have no label of task "1"
    model = MultiTaskClassifier(
        **{**fast, "batch_size": 8}, weighting=UncertaintyWeighting(), task_weights=[1, 2]
    ).fit(X, Y)
    log_var = model.module_.weighting.log_var.detach().numpy()
    last = model.history_[-1, "task_weight"]
    assert last["1"] == pytest.approx(2 * 0.5 * np.exp(-log_var[1]), rel=0.05)


def test_equal_weighting_object_is_the_default(X, Y, fast):
    a = MultiTaskClassifier(**fast).fit(X, Y)
    b = MultiTaskClassifier(**fast, weighting=EqualWeighting()).fit(X, Y)
    assert a.history_[:, "train_loss"] == b.history_[:, "train_loss"]


# ---------------------------------------------------------------- sklearn contract


def test_fit_returns_self_and_sets_learned_attributes(X, Y_frame, fast):
    Xf = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = MultiTaskEstimator(**fast)
    assert model.fit(Xf, Y_frame) is model
    assert model.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(model.feature_names_in_, Xf.columns)
    assert list(model.tasks_) == list(Y_frame.columns)
    np.testing.assert_array_equal(model.classes_[0], ["neg", "pos"])
    np.testing.assert_array_equal(model.classes_[1], ["a", "b", "c"])
    np.testing.assert_array_equal(model.classes_[2], ["x", "y", "z"])
    assert model.classes_[3] is None
    assert len(model.history_) == model.n_iter_ == fast["max_epochs"]
    assert model.history_[:, "epoch"] == [1, 2, 3, 4, 5]
    for record in model.history_:
        assert np.isfinite(record["train_loss"])
        assert set(record["task_loss"]) == set(Y_frame.columns)
        assert "valid_score" not in record
    no_names = MultiTaskEstimator(**fast).fit(X, Y_frame)
    assert not hasattr(no_names, "feature_names_in_")


def test_predict_proba_is_a_list_of_per_task_arrays(X, Y, fast):
    model = MultiTaskClassifier(**fast).fit(X, Y)
    proba = model.predict_proba(X)
    assert isinstance(proba, list) and len(proba) == 2
    assert proba[0].shape == (len(X), 2) and proba[1].shape == (len(X), 3)
    for p, classes, pred in zip(proba, model.classes_, model.predict(X).T, strict=True):
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
        np.testing.assert_array_equal(classes[p.argmax(axis=1)], pred)


def test_predict_proba_unavailable_with_a_continuous_task(X, Y, fast):
    model = MultiTaskEstimator(**fast).fit(X, {"c": X[:, 0], "b": Y[:, 0]})
    assert not hasattr(model, "predict_proba")


def test_threshold_changes_multilabel_predictions_without_refit(X, fast):
    tags = [tuple(t for t, on in zip("abc", r, strict=True) if on) for r in X[:, :3] > 0]
    model = MultiTaskClassifier(**fast).fit(X, pd.DataFrame({"tags": tags}))
    proba = model.predict_proba(X)[0]
    module = model.module_

    def labels(threshold):
        return model.set_params(threshold=threshold).predict(X)["tags"].tolist()

    assert all(len(c) == 3 for c in labels(0.0))
    assert [len(c) for c in labels(1.0)] == list((proba >= 1.0).sum(axis=1))
    per_label = np.array([0.0, 1.0, 0.5])
    for cells in (labels({"tags": per_label}), labels({"tags": per_label.tolist()})):
        assert all("a" in c for c in cells)
        assert [("b" in c) for c in cells] == list(proba[:, 1] >= 1.0)
        assert [("c" in c) for c in cells] == list(proba[:, 2] >= 0.5)
    model.set_params(threshold=0.5)
    model.set_params(threshold__tags=0.0)
    assert all(len(c) == 3 for c in model.predict(X)["tags"])
    assert model.module_ is module  # no refit


def test_score_is_the_mean_of_default_task_metrics(X, Y_frame, fast):
    from sklearn.metrics import accuracy_score, f1_score, r2_score
    from sklearn.preprocessing import MultiLabelBinarizer

    model = MultiTaskEstimator(**fast).fit(X, Y_frame)
    pred = model.predict(X)
    scores = []
    for col in ("sentiment", "topic"):
        keep = Y_frame[col].notna()
        scores.append(accuracy_score(Y_frame[col][keep].astype(str), pred[col][keep]))
    keep = Y_frame["tags"].notna()
    mlb = MultiLabelBinarizer(classes=["x", "y", "z"])
    truth = mlb.fit_transform(Y_frame["tags"][keep])
    guess = mlb.transform(pred["tags"][keep])
    present = truth.any(axis=0) | guess.any(axis=0)
    scores.append(f1_score(truth[:, present], guess[:, present], average="macro", zero_division=0))
    keep = Y_frame["intensity"].notna()
    scores.append(r2_score(Y_frame["intensity"][keep], pred["intensity"][keep]))
    assert model.score(X, Y_frame) == pytest.approx(np.mean(scores))


def test_regressor_score_is_mean_r2(X, fast):
    from sklearn.metrics import r2_score

    Y = np.column_stack([X[:, 0] * 3, X[:, 1] - X[:, 2]])
    model = MultiTaskRegressor(**fast).fit(X, Y)
    pred = model.predict(X)
    expected = np.mean([r2_score(Y[:, j], pred[:, j]) for j in range(2)])
    assert model.score(X, Y) == pytest.approx(expected)


def test_score_sample_weight_per_task(X, Y, fast):
    from sklearn.metrics import accuracy_score

    model = MultiTaskClassifier(**fast).fit(X, Y)
    pred = model.predict(X)
    sw = np.random.RandomState(1).uniform(0, 2, size=(len(X), 2))
    expected = np.mean(
        [accuracy_score(Y[:, j], pred[:, j], sample_weight=sw[:, j]) for j in (0, 1)]
    )
    assert model.score(X, Y, sample_weight=sw) == pytest.approx(expected)


# ---------------------------------------------------------------- training


def test_early_stopping_stops_on_a_plateau_and_restores_the_best(X, Y, fast):
    plateau = MultiTaskClassifier(
        **{**fast, "max_epochs": 50}, learning_rate=1e-9, early_stopping=True, n_iter_no_change=3
    ).fit(X, Y)
    assert plateau.n_iter_ == 4 < 50  # epoch 1 sets the best, 3 more without gain
    assert plateau.best_epoch_ == 1
    for record in plateau.history_:
        assert set(record["task_valid_score"]) == {"0", "1"}
        assert record["valid_score"] == pytest.approx(
            np.mean(list(record["task_valid_score"].values()))
        )

    params = {**fast, "max_epochs": 60, "learning_rate": 0.05, "early_stopping": True}
    model = MultiTaskClassifier(**params, n_iter_no_change=4).fit(X, Y)
    assert model.n_iter_ < 60
    scores = model.history_[:, "valid_score"]
    assert model.best_epoch_ == 1 + int(np.argmax(scores))
    assert model.best_epoch_ < model.n_iter_
    # The same run cut at the best epoch ends in the restored weights.
    cut = MultiTaskClassifier(**{**params, "max_epochs": model.best_epoch_}, n_iter_no_change=99)
    cut.fit(X, Y)
    for a, b in zip(model.predict_proba(X), cut.predict_proba(X), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_random_state_reproduces_predictions_and_history(X, Y, fast):
    params = {**fast, "dropout": 0.3, "early_stopping": True, "n_iter_no_change": 99}
    a = MultiTaskClassifier(**params).fit(X, Y)
    b = MultiTaskClassifier(**params).fit(X, Y)
    for pa, pb in zip(a.predict_proba(X), b.predict_proba(X), strict=True):
        np.testing.assert_array_equal(pa, pb)
    keys = ("train_loss", "task_loss", "task_weight", "valid_score", "task_valid_score")
    for key in keys:
        assert a.history_[:, key] == b.history_[:, key]
    other = MultiTaskClassifier(**{**params, "random_state": 1}).fit(X, Y)
    assert a.history_[:, "train_loss"] != other.history_[:, "train_loss"]


def test_random_state_does_not_touch_the_global_torch_rng(X, Y, fast):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    MultiTaskClassifier(**fast).fit(X, Y)
    torch.testing.assert_close(torch.rand(3), expected)


def test_verbose_prints_one_line_per_epoch(X, Y, fast, capsys):
    MultiTaskClassifier(**fast, verbose=1).fit(X, Y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == fast["max_epochs"]
    assert all("train_loss" in line for line in lines)
    assert lines[0].split("|")[0].split() == ["epoch", "1"]
    MultiTaskClassifier(**fast).fit(X, Y)
    assert capsys.readouterr().out == ""


def test_warm_start_continues_training(X, Y, fast):
    model = MultiTaskClassifier(**fast, warm_start=True).fit(X, Y)
    module, first = model.module_, list(model.history_[:, "train_loss"])
    model.fit(X, Y)
    assert model.module_ is not module  # trained on a copy: a failed refit keeps the old one
    assert len(model.history_) == 2 * fast["max_epochs"]
    assert model.n_iter_ == fast["max_epochs"]
    assert model.history_[:, "epoch"] == list(range(1, 11))
    assert model.history_[:, "train_loss"][:5] == first
    cold = MultiTaskClassifier(**fast).fit(X, Y)
    module = cold.module_
    cold.fit(X, Y)
    assert cold.module_ is not module and len(cold.history_) == fast["max_epochs"]


@pytest.mark.parametrize(
    "class_weight",
    [{"0": {1: 20.0}}, {"0": "balanced"}, "balanced", "class_weight__0"],
)
def test_class_weight_shifts_predictions_toward_the_weighted_class(X, fast, class_weight):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4))
    rare = (X[:, 0] + 0.5 * rng.normal(size=200) > 1.0).astype(int)  # ~20% ones
    Y = np.column_stack([rare, X[:, 1] > 0]).astype(int)
    params = {**fast, "max_epochs": 10, "learning_rate": 0.01}
    base = MultiTaskClassifier(**params).fit(X, Y)
    if class_weight == "class_weight__0":
        weighted = MultiTaskClassifier(**params).set_params(class_weight__0={1: 20.0})
    else:
        weighted = MultiTaskClassifier(**params, class_weight=class_weight)
    weighted.fit(X, Y)
    assert weighted.predict(X)[:, 0].sum() > base.predict(X)[:, 0].sum() + 10
    assert weighted.predict_proba(X)[0][:, 1].mean() > base.predict_proba(X)[0][:, 1].mean()


def test_class_weight_label_dict_for_a_single_1d_task(X, fast):
    y = (X[:, 0] > 0.8).astype(int)
    params = {**fast, "max_epochs": 10, "learning_rate": 0.01}
    base = MultiTaskClassifier(**params).fit(X, y).predict(X).sum()
    # {0: w} names a label of the one task (also named "0"), as in sklearn.
    assert MultiTaskClassifier(**params, class_weight={1: 20}).fit(X, y).predict(X).sum() > base
    assert MultiTaskClassifier(**params, class_weight={0: 20}).fit(X, y).predict(X).sum() <= base


def test_sample_weight_zero_is_dropping_the_row_for_that_task(X, Y, fast):
    Y = Y.astype(float)
    rows = np.arange(0, len(X), 3)
    sw = np.ones((len(X), 2))
    sw[rows, 1] = 0.0
    Y_missing = Y.copy()
    Y_missing[rows, 1] = np.nan
    weighted = MultiTaskClassifier(**fast).fit(X, Y, sample_weight=sw)
    masked = MultiTaskClassifier(**fast).fit(X, Y_missing)
    assert weighted.history_[:, "train_loss"] == pytest.approx(masked.history_[:, "train_loss"])
    for a, b in zip(weighted.predict_proba(X), masked.predict_proba(X), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    unweighted = MultiTaskClassifier(**fast).fit(X, Y)
    assert not np.allclose(unweighted.predict_proba(X)[1], weighted.predict_proba(X)[1])


def test_sample_weight_1d_is_the_same_weight_for_every_task(X, Y, fast):
    sw = np.random.RandomState(0).uniform(0.2, 2.0, size=len(X))
    one = MultiTaskClassifier(**fast).fit(X, Y, sample_weight=sw)
    two = MultiTaskClassifier(**fast).fit(X, Y, sample_weight=np.column_stack([sw, sw]))
    assert one.history_[:, "train_loss"] == two.history_[:, "train_loss"]
    # A 1-D zero weight drops the row (full batch: row order does not matter).
    full = {**fast, "batch_size": 1000}
    sw = np.ones(len(X))
    sw[:10] = 0
    dropped = MultiTaskClassifier(**full).fit(X[10:], Y[10:])
    zeroed = MultiTaskClassifier(**full).fit(X, Y, sample_weight=sw)
    for a, b in zip(dropped.predict_proba(X), zeroed.predict_proba(X), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_device_auto_runs_on_cpu_without_gpu(X, Y, fast):
    model = MultiTaskClassifier(**fast, device="auto").fit(X, Y)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert model.device_.type == expected
    assert next(model.module_.parameters()).device.type == expected
    assert model.predict(X).shape == Y.shape


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_device_cuda_without_gpu_is_a_clear_error(X, Y, fast, device):
    with pytest.raises(ValueError, match=r"device=.*cuda.*no CUDA GPU"):
        MultiTaskClassifier(**fast, device=device).fit(X, Y)
