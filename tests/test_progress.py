"""Progress of fit, predict and the diagnostics (``verbose``): tqdm bars and per-epoch lines."""

from __future__ import annotations

import copy
import io
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from tqdm.std import tqdm as std_tqdm

from skmtl import MultiTaskClassifier, MultiTaskEstimator
from skmtl.diagnostics import single_task_baselines, task_affinity
from skmtl.engine import Callback, Engine, PrintProgress, ShuffledBatches, _progress, predict
from skmtl.weighting import EqualWeighting

# The tiny fits stop at max_epochs on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def bars(monkeypatch):
    """Every bar made by skmtl's progress code, written to its own StringIO."""
    made = []

    class Recorded(std_tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["file"] = io.StringIO()
            # close() disables a bar, and a disabled bar keeps no desc: remember both.
            self.label, self.shown = kwargs.get("desc", ""), not kwargs.get("disable", False)
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(_progress, "tqdm", Recorded)
    return made


def _postfix(bar) -> dict[str, str]:
    return dict(item.split("=") for item in bar.postfix.split(", "))


def _shown(bars, prefix: str) -> list:
    return [b for b in bars if b.shown and b.label.startswith(prefix)]


def _fmt(values: dict) -> dict[str, str]:
    return {k: f"{v:.4f}" for k, v in values.items()}


# ---------------------------------------------------------------- verbose levels


def test_verbose_0_prints_nothing_at_all(X, Y, fast, capfd):
    model = MultiTaskClassifier(**fast, early_stopping=True).fit(X, Y)
    model.predict(np.tile(X, (400, 1)))  # 48,000 rows: 24 prediction batches
    model.score(X, Y)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_verbose_1_shows_an_epoch_bar_and_one_line_per_epoch(X, Y, fast, capfd):
    model = MultiTaskClassifier(**fast, verbose=1).fit(X, Y)
    out, err = capfd.readouterr()
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == fast["max_epochs"]
    assert lines[0].split("|")[0].split() == ["epoch", "1"]
    last = model.history_[-1]
    assert lines[-1] == _progress.epoch_line(last)
    # The bar on stderr: every epoch, the total loss and each task's loss.
    assert "fit" in err and "5/5" in err
    assert f"train_loss={last['train_loss']:.4f}" in err
    for task, loss in last["task_loss"].items():
        assert f"{task}={loss:.4f}" in err
    assert "epoch 1" not in err  # no batch bar at verbose=1
    model.predict(X)  # one batch: no bar
    assert capfd.readouterr() == ("", "")


def test_verbose_1_epoch_bar_shows_the_history_values(X, Y_frame, fast, bars):
    model = MultiTaskEstimator(**{**fast, "max_epochs": 3}, verbose=1).fit(X, Y_frame)
    (epochs,) = _shown(bars, "fit")
    assert epochs.total == epochs.n == 3 and epochs.disable  # complete and closed
    last = model.history_[-1]
    expected = {"train_loss": f"{last['train_loss']:.4f}", **_fmt(last["task_loss"])}
    assert _postfix(epochs) == expected
    assert set(last["task_loss"]) == {"sentiment", "topic", "tags", "intensity"}
    assert not _shown(bars, "epoch")


def test_verbose_2_shows_a_bar_over_each_epochs_batches(X, Y, fast, bars):
    model = MultiTaskClassifier(**fast, verbose=2).fit(X, Y)
    batches = _shown(bars, "epoch ")
    assert [b.label for b in batches] == [f"epoch {e}" for e in range(1, 6)]
    n_batches = int(np.ceil(len(X) / fast["batch_size"]))
    for bar, record in zip(batches, model.history_, strict=True):
        assert bar.total == bar.n == n_batches
        assert bar.disable and not bar.leave  # closed and removed
        # The running per-task loss at the last batch is the epoch's task_loss.
        assert _postfix(bar) == _fmt(record["task_loss"])
    (epochs,) = _shown(bars, "fit")
    assert epochs.n == 5 and epochs.disable


def test_batch_bar_shows_the_optimised_per_task_loss(X, Y, fast, bars):
    """Row weights and task weights: the bar shows history's task_loss, the loss the
    strategy combined (not a recomputed or weighted-by-task one)."""
    sw = np.random.RandomState(1).uniform(0.2, 3.0, size=len(X))
    model = MultiTaskClassifier(**fast, verbose=2, task_weights=[3.0, 0.5])
    model.fit(X, Y, sample_weight=sw)
    last_bar = _shown(bars, "epoch ")[-1]
    assert _postfix(last_bar) == _fmt(model.history_[-1]["task_loss"])


def test_early_stopping_closes_the_bars_before_its_message(X, Y, fast, bars, capsys):
    model = MultiTaskClassifier(
        **{**fast, "max_epochs": 50},
        verbose=2,
        early_stopping=True,
        n_iter_no_change=1,
        tol=10.0,  # no later epoch improves by 10: stop after the second one
    ).fit(X, Y)
    assert len(model.history_) == 2
    (epochs,) = _shown(bars, "fit")
    assert epochs.total == 50 and epochs.n == 2 and epochs.disable
    assert all(b.disable for b in _shown(bars, "epoch "))
    last = model.history_[-1]
    assert _postfix(epochs)["valid_score"] == f"{last['valid_score']:.4f}"
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2] == _progress.epoch_line(last)
    assert lines[-1].startswith("Early stopping")


# ---------------------------------------------------------------- interruptions


class _RaiseAtBatch(Callback):
    def __init__(self, at: int, error: type[BaseException]):
        self.at, self.error, self.seen = at, error, 0

    def on_batch_end(self, engine) -> None:
        self.seen += 1
        if self.seen == self.at:
            raise self.error("stop")


def _engine(model, callbacks, max_epochs=3):
    tasks = list(model.tasks_.values())
    network = copy.deepcopy(model.module_)
    weighting = EqualWeighting()
    weighting.init([t.name for t in tasks])
    return Engine(
        network,
        tasks,
        weighting=weighting,
        optimizer=torch.optim.AdamW(network.parameters(), lr=1e-3),
        sampler=ShuffledBatches(32),
        max_epochs=max_epochs,
        device=torch.device("cpu"),
        callbacks=callbacks,
    )


@pytest.fixture
def fitted(X, Y, fast):
    return MultiTaskClassifier(**fast).fit(X, Y)


def test_keyboard_interrupt_in_a_callback_stops_and_closes_the_bars(fitted, X, Y, bars):
    progress = PrintProgress(verbose=2)
    engine = _engine(fitted, [progress, _RaiseAtBatch(6, KeyboardInterrupt)], max_epochs=5)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        history = engine.fit(fitted.prepare_data(X, Y), [], np.random.RandomState(0))
    assert engine.interrupted and len(history) == 2  # the 2nd batch of epoch 2
    assert progress.epochs is None and progress.batches is None
    assert bars and all(b.disable for b in bars)
    second = _shown(bars, "epoch 2")[0]
    assert second.n == 2  # the interrupting batch was taken and counted
    (epochs,) = _shown(bars, "fit")
    assert epochs.n == 2 and _postfix(epochs)["0"] == f"{history[-1]['task_loss']['0']:.4f}"


def test_keyboard_interrupt_in_a_step_closes_the_estimators_bars(X, Y, fast, bars, monkeypatch):
    calls = {"n": 0}
    real = Engine.train_step

    def flaky(self, batch, targets):
        calls["n"] += 1
        if calls["n"] == 9:
            raise KeyboardInterrupt
        return real(self, batch, targets)

    monkeypatch.setattr(Engine, "train_step", flaky)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        model = MultiTaskClassifier(**{**fast, "max_epochs": 10}, verbose=2).fit(X, Y)
    assert len(model.history_) == 3
    assert all(b.disable for b in bars)
    assert _shown(bars, "fit")[0].n == 3


def test_an_error_closes_the_bars(fitted, X, Y, bars):
    progress = PrintProgress(verbose=2)
    engine = _engine(fitted, [progress, _RaiseAtBatch(3, RuntimeError)])
    with pytest.raises(RuntimeError, match="stop"):
        engine.fit(fitted.prepare_data(X, Y), [], np.random.RandomState(0))
    assert progress.epochs is None and progress.batches is None
    assert bars and all(b.disable for b in bars)


def test_bars_can_be_written_to_a_given_file(fitted, X, Y):
    stream = io.StringIO()
    progress = PrintProgress(verbose=2, file=stream, mininterval=0)
    engine = _engine(fitted, [progress], max_epochs=2)
    engine.fit(fitted.prepare_data(X, Y), [], np.random.RandomState(0))
    text = stream.getvalue()
    assert "2/2" in text and "epoch 2" in text and "4/4" in text


# ---------------------------------------------------------------- estimators stay plain


def test_verbose_models_clone_and_pickle(X, Y, fast):
    model = MultiTaskClassifier(**fast, verbose=2).fit(X, Y)
    assert not any(isinstance(v, std_tqdm | PrintProgress) for v in vars(model).values())
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    assert clone(model).get_params() == model.get_params()


# ---------------------------------------------------------------- predictions


@pytest.mark.parametrize(
    ("verbose", "batch_size", "shown"),
    [(0, 4, False), (1, 16, False), (1, 4, True), (2, 16, True), (2, 200, False)],
)
def test_prediction_bar(fitted, X, bars, verbose, batch_size, shown):
    tasks = list(fitted.tasks_.values())
    inputs = fitted._prepare_inputs(X, fitting=False)[0]
    out = predict(fitted.module_, tasks, inputs, fitted.device_, batch_size, verbose=verbose)
    assert out["0"].shape[0] == len(X)
    (bar,) = [b for b in bars if b.label == "predict"]
    assert bar.shown is shown and bar.disable  # closed either way
    if shown:
        assert bar.n == bar.total == int(np.ceil(len(X) / batch_size))


def test_estimator_predict_shows_a_bar_when_long(X, Y, fast, capfd):
    model = MultiTaskClassifier(**fast, verbose=1).fit(X, Y)
    capfd.readouterr()
    model.predict(np.tile(X, (400, 1)))  # 24 batches of 2048 rows
    out, err = capfd.readouterr()
    assert out == "" and "predict" in err and "0/24" in err  # removed when done


# ---------------------------------------------------------------- diagnostics


def test_single_task_baselines_verbose(X, Y, fast, capfd):
    single_task_baselines(MultiTaskClassifier(**fast), X[:90], Y[:90], X[90:], Y[90:])
    assert capfd.readouterr() == ("", "")
    single_task_baselines(MultiTaskClassifier(**fast), X[:90], Y[:90], X[90:], Y[90:], verbose=1)
    out, err = capfd.readouterr()
    assert out == "" and "single_task_baselines" in err and "3/3" in err


def test_task_affinity_verbose(X, Y, fast, fitted, capfd):
    task_affinity(fitted, X, Y, n_steps=3, random_state=0)
    assert capfd.readouterr() == ("", "")
    task_affinity(fitted, X, Y, n_steps=3, random_state=0, verbose=1)
    out, err = capfd.readouterr()
    assert out == "" and "task_affinity" in err and "3/3" in err
    # Unfitted: trained a clone, measured over its epochs.
    task_affinity(MultiTaskClassifier(**fast), X, Y, n_steps=4, random_state=0, verbose=1)
    out, err = capfd.readouterr()
    assert out == "" and "4/4" in err and "epoch 5/5" in err
