"""torch's intra-op threads during fit and predict: the worker's share of the cores.

skmtl runs every fit and predict inside :func:`skmtl.utils.torch_threads`: in a
joblib worker process it uses the ``OMP_NUM_THREADS`` joblib set there
(``cpu_count() // n_jobs`` by default), in the main process it leaves the
count alone, and ``SKMTL_NUM_THREADS`` overrides both. (Dask workers: see
``test_dask.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from joblib import Parallel, cpu_count, delayed, parallel_config

from skmtl import MultiTaskClassifier
from skmtl.utils import torch_threads, worker_num_threads


class ThreadRecordingClassifier(MultiTaskClassifier):
    """Records ``torch.get_num_threads()`` inside fit (``fit_threads_``) and predict."""

    def _fitted_extras(self, tasks, layout) -> dict:
        return {**super()._fitted_extras(tasks, layout), "fit_threads_": torch.get_num_threads()}

    def _prediction_tasks(self, tasks) -> list:
        # Called just before the prediction loop, outside torch_threads(): the network
        # records the count while it runs instead.
        self.module_.register_forward_pre_hook(_record_predict_threads)
        return super()._prediction_tasks(tasks)


def _record_predict_threads(module, args):
    module.predict_threads = torch.get_num_threads()


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 5)).astype(np.float32)
    return X, np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(int)


def _model():
    return ThreadRecordingClassifier(hidden_layer_sizes=(4,), max_epochs=1, random_state=0)


def _fit_in_worker(preset: int | None = None) -> dict:
    """Fit and predict in this process; the thread counts before, during and after."""
    if preset is not None:
        torch.set_num_threads(preset)
    before = torch.get_num_threads()
    X, Y = _data()
    model = _model().fit(X, Y)
    model.predict(X)
    return {
        "before": before,
        "fit": model.fit_threads_,
        "predict": model.module_.predict_threads,
        "after": torch.get_num_threads(),
        "share": worker_num_threads(),
    }


@pytest.fixture
def no_thread_env(monkeypatch):
    """No thread settings inherited from the environment (a LocalCluster started in this
    process leaves ``OMP_NUM_THREADS=1`` in ``os.environ``, and loky passes it on)."""
    for var in ("SKMTL_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def threads():
    saved = torch.get_num_threads()
    yield
    torch.set_num_threads(saved)


def test_main_process_count_is_left_alone_and_restored(no_thread_env, threads):
    torch.set_num_threads(3)
    assert worker_num_threads() is None
    assert _fit_in_worker() == {"before": 3, "fit": 3, "predict": 3, "after": 3, "share": None}


def test_environment_variable_overrides(no_thread_env, threads, monkeypatch):
    torch.set_num_threads(3)
    monkeypatch.setenv("SKMTL_NUM_THREADS", "2")
    assert _fit_in_worker() == {"before": 3, "fit": 2, "predict": 2, "after": 3, "share": 2}


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_bad_environment_variable_is_an_error(no_thread_env, monkeypatch, value):
    monkeypatch.setenv("SKMTL_NUM_THREADS", value)
    X, Y = _data()
    model = _model()
    with pytest.raises(ValueError, match="SKMTL_NUM_THREADS must be a positive integer"):
        model.fit(X, Y)
    assert not hasattr(model, "module_")


def test_explicit_count_wins_over_the_automatic_one(no_thread_env, threads, monkeypatch):
    torch.set_num_threads(3)
    monkeypatch.setenv("SKMTL_NUM_THREADS", "1")
    with torch_threads(2) as n:
        assert n == 2
        record = _fit_in_worker()
    assert record == {"before": 2, "fit": 2, "predict": 2, "after": 2, "share": 1}
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize("n", [0, -1, 1.0, True, "2"])
def test_explicit_count_is_checked(n):
    with pytest.raises(ValueError, match="n_threads must be a positive integer"):
        with torch_threads(n):
            pass


def test_restored_after_a_failed_fit(no_thread_env, threads, monkeypatch):
    torch.set_num_threads(3)
    monkeypatch.setenv("SKMTL_NUM_THREADS", "1")
    X, Y = _data()
    with pytest.raises(ValueError):
        _model().fit(X, Y[:10])
    assert torch.get_num_threads() == 3


def test_loky_workers_get_their_share(no_thread_env):
    """Two loky workers: cpu_count() // 2 threads each (what joblib sets OMP_NUM_THREADS
    to), also when code in the worker changed torch's count before the fit (restored)."""
    share = max(1, cpu_count() // 2)
    with parallel_config(backend="loky", n_jobs=2):
        records = Parallel()(delayed(_fit_in_worker)(p) for p in (None, None, share + 1))
    for record in records[:2]:
        assert record == {
            "before": share,
            "fit": share,
            "predict": share,
            "after": share,
            "share": share,
        }
    assert records[2] == {
        "before": share + 1,
        "fit": share,
        "predict": share,
        "after": share + 1,
        "share": share,
    }


def test_loky_inner_max_num_threads(no_thread_env):
    with parallel_config(backend="loky", n_jobs=2, inner_max_num_threads=1):
        records = Parallel()(delayed(_fit_in_worker)(3) for _ in range(2))
    assert [(r["fit"], r["after"]) for r in records] == [(1, 3), (1, 3)]
