"""The one training engine: its loop, hooks, callbacks and samplers, and what every
estimator gains from it (the same features on the MLP estimators and the tagger)."""

from __future__ import annotations

import copy
import pickle
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskTagger, PerTask
from skmtl.diagnostics import single_task_baselines, task_affinity
from skmtl.encoders import TextEncoder
from skmtl.engine import (
    Callback,
    Engine,
    LengthGroupedBatches,
    ShuffledBatches,
    WeightAveraging,
)
from skmtl.weighting import DBMTL, EqualWeighting


class _Rows:
    def __init__(self, lengths):
        self.lengths = np.asarray(lengths)

    def __len__(self):
        return self.lengths.size


# ---------------------------------------------------------------- samplers


def test_shuffled_batches_cover_every_row_once():
    order, bounds = ShuffledBatches(7).epoch(_Rows(np.ones(30)), np.random.RandomState(0))
    assert sorted(order.tolist()) == list(range(30))
    assert bounds[0] == 0 and bounds[-1] == 30
    assert np.all(np.diff(bounds)[:-1] == 7)


def test_length_grouped_batches_hold_similar_lengths():
    rng = np.random.RandomState(0)
    lengths = rng.randint(1, 60, size=500)
    sampler = LengthGroupedBatches(10, chunk_batches=50)
    order, bounds = sampler.epoch(_Rows(lengths), rng)
    assert sorted(order.tolist()) == list(range(500))
    spreads = [np.ptp(lengths[order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:], strict=False)]
    # sorted within a chunk: a batch spans a small range of lengths (random: ~50)
    assert np.mean(spreads) < 5
    order2, _ = sampler.epoch(_Rows(lengths), rng)
    assert not np.array_equal(order, order2)  # a new batch order each epoch


# ---------------------------------------------------------------- the loop and hooks


@pytest.fixture
def fitted(X, Y, fast):
    return MultiTaskClassifier(**fast).fit(X, Y)


def _engine(model, callbacks=(), cls=Engine, max_epochs=3):
    tasks = list(model.tasks_.values())
    network = copy.deepcopy(model.module_)
    weighting = EqualWeighting()
    weighting.init([t.name for t in tasks])
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-3)
    return cls(
        network,
        tasks,
        weighting=weighting,
        optimizer=optimizer,
        sampler=ShuffledBatches(32),
        max_epochs=max_epochs,
        device=torch.device("cpu"),
        callbacks=callbacks,
    )


class _Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_fit_begin(self, engine):
        self.calls.append("fit_begin")

    def on_epoch_begin(self, engine, epoch):
        self.calls.append(f"epoch_begin {epoch}")

    def on_batch_end(self, engine):
        self.calls.append("batch")

    def on_epoch_end(self, engine, record):
        record["seen_by_callback"] = True
        self.calls.append(f"epoch_end {record['epoch']}")

    def on_record(self, engine, record):
        assert "dur" in record and engine.history[-1] is record
        self.calls.append("record")

    def on_fit_end(self, engine):
        self.calls.append("fit_end")


def test_callbacks_are_called_in_order(fitted, X, Y):
    recorder = _Recorder()
    engine = _engine(fitted, [recorder], max_epochs=2)
    history = engine.fit(fitted.prepare_data(X, Y), [], np.random.RandomState(0))
    per_epoch = ["batch"] * 4  # 120 rows / 32
    assert recorder.calls == (
        ["fit_begin", "epoch_begin 1", *per_epoch, "epoch_end 1", "record"]
        + ["epoch_begin 2", *per_epoch, "epoch_end 2", "record", "fit_end"]
    )
    assert [r["epoch"] for r in history] == [1, 2]
    assert all(r["seen_by_callback"] for r in history)


def test_a_callback_stops_training(fitted, X, Y):
    class StopAfterOne(Callback):
        def on_epoch_end(self, engine, record):
            engine.stop_training = True

    engine = _engine(fitted, [StopAfterOne()], max_epochs=10)
    history = engine.fit(fitted.prepare_data(X, Y), [], np.random.RandomState(0))
    assert len(history) == 1


def test_train_step_and_get_loss_can_be_overridden(fitted, X, Y):
    class Doubled(Engine):
        def get_loss(self, out, batch, targets):
            losses, present = super().get_loss(out, batch, targets)
            return 2 * losses, present

    plain = _engine(fitted).fit(fitted.prepare_data(X, Y), [], np.random.RandomState(0))
    doubled = _engine(fitted, cls=Doubled).fit(
        fitted.prepare_data(X, Y), [], np.random.RandomState(0)
    )
    assert doubled[0]["train_loss"] == pytest.approx(2 * plain[0]["train_loss"], rel=1e-5)


def test_keyboard_interrupt_stops_at_a_batch_and_keeps_a_consistent_model(fitted, X, Y):
    class Interrupted(Engine):
        steps = 0

        def train_step(self, batch, targets):
            Interrupted.steps += 1
            if Interrupted.steps == 6:  # the 2nd batch of epoch 2
                raise KeyboardInterrupt
            return super().train_step(batch, targets)

    engine = _engine(fitted, cls=Interrupted, max_epochs=5)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        history = engine.fit(fitted.prepare_data(X, Y), [], np.random.RandomState(0))
    assert engine.interrupted and len(history) == 2
    assert all(torch.isfinite(p).all() for p in engine.network.parameters())


def test_interrupted_estimator_fit_is_usable_and_consistent(X, Y, fast, monkeypatch):
    calls = {"n": 0}
    real = Engine.train_step

    def flaky(self, batch, targets):
        calls["n"] += 1
        if calls["n"] == 9:
            raise KeyboardInterrupt
        return real(self, batch, targets)

    monkeypatch.setattr(Engine, "train_step", flaky)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        model = MultiTaskClassifier(**{**fast, "max_epochs": 10}).fit(X, Y)
    assert model.n_iter_ == len(model.history_) == 3
    assert model.predict(X).shape == Y.shape


def test_weight_averaging_callback_leaves_the_average(fitted, X, Y):
    engine = _engine(fitted, [WeightAveraging(0.5)], max_epochs=1)
    raw = []
    real = engine.optimizer.step

    def step(*a, **k):
        out = real(*a, **k)
        raw.append([p.detach().clone() for p in engine.network.parameters()])
        return out

    start = [p.detach().clone() for p in engine.network.parameters()]
    engine.optimizer.step = step
    engine.fit(fitted.prepare_data(X, Y), [], np.random.RandomState(0))
    expected = start
    for t, weights in enumerate(raw, start=1):
        rate = 1.0 - min(0.5, (1.0 + t) / (10.0 + t))
        expected = [e + rate * (w - e) for e, w in zip(expected, weights, strict=True)]
    for e, p in zip(expected, engine.network.parameters(), strict=True):
        torch.testing.assert_close(p.detach(), e)


# ---------------------------------------------------------------- what every estimator has

TOY_X = [["I", "like", "Paris"], ["You", "run", "fast", "."], ["Go"], ["We", "see", "Rome"]] * 6
TOY_Y = pd.DataFrame(
    {
        "pos": [
            ["PRON", "VERB", "PROPN"],
            ["PRON", "VERB", "ADV", "PUNCT"],
            ["VERB"],
            ["PRON", "VERB", "PROPN"],
        ]
        * 6,
        "ner": [["O", "O", "B-LOC"], ["O", "O", "O", "O"], ["O"], ["O", "O", "B-LOC"]] * 6,
    }
)


def _tagger(**kw):
    params = {
        "encoder": TextEncoder(width=16, embed_dim=8, depth=2),
        "max_epochs": 2,
        "batch_size": 8,
        "random_state": 0,
    }
    return MultiTaskTagger(**{**params, **kw})


def test_tagger_has_tasks_and_every_engine_feature():
    model = _tagger(record_gradients=True, class_weight="balanced").fit(
        TOY_X, TOY_Y, sample_weight=np.linspace(0.5, 2, len(TOY_X))
    )
    assert [t.type for t in model.tasks_.values()] == ["token", "token"]
    assert set(model.history_[-1, "grad_norm"]) == {"pos", "ner"}
    assert np.isfinite(model.history_[-1, "grad_cosine"]["pos|ner"])
    before = [p.detach().clone() for p in model.module_.parameters()]
    model.set_params(warm_start=True, max_epochs=1).fit(TOY_X, TOY_Y)
    assert len(model.history_) == 3 and model.n_iter_ == 1
    assert any(
        not torch.equal(a, b.detach())
        for a, b in zip(before, model.module_.parameters(), strict=True)
    )


def test_tagger_sample_weight_changes_the_fit():
    a = _tagger().fit(TOY_X, TOY_Y)
    weights = np.where(np.arange(len(TOY_X)) % 4 == 1, 5.0, 0.1)
    b = _tagger().fit(TOY_X, TOY_Y, sample_weight=weights)
    assert a.history_[-1, "train_loss"] != pytest.approx(b.history_[-1, "train_loss"])


def test_tagger_add_tasks_trains_only_the_new_head():
    model = _tagger().fit(TOY_X, TOY_Y[["pos"]])
    old = {k: v.clone() for k, v in model.module_.state_dict().items()}
    model.add_tasks(TOY_X, TOY_Y[["ner"]])
    assert list(model.tasks_) == ["pos", "ner"]
    state = model.module_.state_dict()
    for key, value in old.items():
        torch.testing.assert_close(state[key], value)
    pred = model.predict(TOY_X)
    assert list(pred.columns) == ["pos", "ner"]
    assert [len(t) for t in pred["ner"]] == [len(s) for s in TOY_X]


def test_tagger_diagnostics():
    model = _tagger()
    affinity = task_affinity(model.fit(TOY_X, TOY_Y), TOY_X, TOY_Y, n_steps=2, random_state=0)
    assert list(affinity.index) == ["pos", "ner"]
    report = single_task_baselines(
        model, TOY_X, TOY_Y, TOY_X, TOY_Y, metrics={"pos": "token_accuracy", "ner": "span_f1"}
    )
    assert list(report.index) == ["pos", "ner"]
    assert np.isfinite(report["mtl_score"]).all()


def test_mlp_estimators_have_weight_averaging(X, Y, fast):
    plain = MultiTaskClassifier(**fast).fit(X, Y)
    averaged = MultiTaskClassifier(**fast, weight_averaging=0.9).fit(X, Y)
    assert not np.allclose(plain.predict_proba(X)[0], averaged.predict_proba(X)[0])


# ---------------------------------------------------------------- internals that bit users


def test_refit_failure_leaves_the_previous_model(X, Y, fast):
    model = MultiTaskClassifier(**fast).fit(X, Y)
    before = pickle.dumps(model)
    proba = model.predict_proba(X)
    wide = np.hstack([X, X])
    with pytest.raises(ValueError):
        model.fit(wide, Y[:-1])  # rows do not match, after X was validated with 12 features
    assert model.n_features_in_ == 6
    for got, want in zip(model.predict_proba(X), proba, strict=True):
        np.testing.assert_array_equal(got, want)
    assert pickle.dumps(model) == before


def test_refit_failing_mid_training_leaves_the_previous_model(X, Y, fast, monkeypatch):
    model = MultiTaskEstimator(**fast).fit(X, Y)
    proba = model.predict_proba(X)
    tagger = _tagger().fit(TOY_X, TOY_Y)
    tags = tagger.predict(TOY_X)

    def boom(self, *a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Engine, "run_epoch", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        model.fit(X[:, :3], Y)
    with pytest.raises(RuntimeError, match="disk full"):
        tagger.fit(TOY_X[:8], TOY_Y.iloc[:8][["pos"]])
    monkeypatch.undo()
    assert model.n_features_in_ == 6
    for got, want in zip(model.predict_proba(X), proba, strict=True):
        np.testing.assert_array_equal(got, want)
    assert list(tagger.tasks_) == ["pos", "ner"]
    pd.testing.assert_frame_equal(tagger.predict(TOY_X), tags)


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_warm_start_after_pickle_or_deepcopy_trains(X, Y, fast, how):
    model = MultiTaskClassifier(**fast, warm_start=True).fit(X, Y)
    restored = pickle.loads(pickle.dumps(model)) if how == "pickle" else copy.deepcopy(model)
    before = [p.detach().clone() for p in restored.module_.parameters()]
    restored.fit(X, Y)
    after = list(restored.module_.parameters())
    assert any(not torch.equal(a, b.detach()) for a, b in zip(before, after, strict=True))
    # and it continues exactly like the original model would
    model.fit(X, Y)
    for a, b in zip(model.module_.parameters(), after, strict=True):
        torch.testing.assert_close(a, b)


def test_set_params_per_task_keeps_the_scalar_as_default(X, Y, fast):
    model = MultiTaskClassifier(**fast, task_weights=0.5).set_params(task_weights__1=2.0)
    assert model.task_weights == PerTask({"1": 2.0}, default=0.5)
    assert clone(model).get_params()["task_weights"] == PerTask({"1": 2.0}, default=0.5)
    np.testing.assert_array_equal(
        model._task_weight_vector(list(model.fit(X, Y).tasks_.values())), [0.5, 2.0]
    )
    with pytest.raises(ValueError, match=r"task_weights names unknown tasks \['nope'\]"):
        clone(model).set_params(task_weights__nope=1.0).fit(X, Y)


def test_predict_is_thread_safe(X, Y, fast):
    model = MultiTaskClassifier(**fast, threshold=0.3).fit(X, Y)
    expected = model.predict_proba(X)
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(model.predict_proba(X))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got in results:
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_array_equal(a, b)


def test_strategy_state_is_saved_through_torch(X, Y, fast, monkeypatch):
    model = MultiTaskClassifier(**fast, weighting=DBMTL()).fit(X, Y)
    state = model.__getstate__()
    # The strategy's tensor state (DB-MTL's gradient EMA) travels in the torch state, as
    # tensors, not in the pickled strategy object.
    assert isinstance(state["_torch_state"], bytes)
    assert not isinstance(state["weighting_"].grad_ema_, torch.Tensor)
    assert isinstance(model.weighting_.grad_ema_, torch.Tensor)
    seen = []
    real = torch.load

    def recording(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", recording)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restored = pickle.loads(pickle.dumps(model))
    assert len(seen) == 1 and seen[0]["weights_only"] is True
    assert str(seen[0]["map_location"]) == "cpu"
    assert torch.equal(restored.weighting_.grad_ema_, model.weighting_.grad_ema_)
    assert restored.weighting_.grad_ema_.device.type == "cpu"
    np.testing.assert_array_equal(restored.weighting_.steps_, model.weighting_.steps_)
    for a, b in zip(restored.predict_proba(X), model.predict_proba(X), strict=True):
        np.testing.assert_array_equal(a, b)
