"""Searches and cross-validation on a Dask cluster, through joblib's dask backend.

A local cluster of two single-threaded worker processes (loopback only) runs
``GridSearchCV`` over a task weight, ``cross_validate`` and
``TaskWeightSearchCV`` on a sample of GoEmotions; every result must equal the
sequential one (``n_jobs=1``) exactly.

Why exactly: every fit seeds its own generators from ``random_state`` (torch's
global generator is forked and seeded inside fit), and nothing else differs
between processes except torch's intra-op thread count, which changes the
order of float sums (weights differ by about 1e-8 between 1 and 2 threads).
skmtl gives every task of a Dask worker one thread (see
``skmtl.utils.worker_num_threads``), so the sequential reference runs on one
thread too.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline

from skmtl import MultiTaskClassifier
from skmtl.datasets import load_goemotions
from skmtl.model_selection import TaskWeightSearchCV
from skmtl.utils import torch_threads, worker_num_threads
from skmtl.weighting import WeightConditioned

distributed = pytest.importorskip(
    "distributed", reason="distributed (dask[distributed], the 'dask' extra) is not installed"
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TIMEOUT = 180  # seconds for one search on the cluster
GRID = {"multitaskclassifier__task_weights__emotion": [0.5, 1, 2]}
CV = KFold(3, shuffle=True, random_state=0)


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, on 127.0.0.1, closed at the end."""
    environ = dict(os.environ)
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    # The nannies set distributed.nanny.pre-spawn-environ (OMP_NUM_THREADS=1, ...) in
    # this process's os.environ before spawning: undo it for the tests that follow.
    os.environ.clear()
    os.environ.update(environ)
    client = distributed.Client(cluster, timeout=60)
    try:
        client.wait_for_workers(2, timeout=120)
        yield client
    finally:
        client.close(timeout=30)
        cluster.close(timeout=30)
        os.environ.clear()
        os.environ.update(environ)


@pytest.fixture(scope="module")
def data():
    train = load_goemotions(split="train")
    return train.text[:300], train.targets.iloc[:300].reset_index(drop=True)


def _pipe(**params):
    return make_pipeline(
        TfidfVectorizer(min_df=2),
        MultiTaskClassifier(hidden_layer_sizes=(16,), max_epochs=2, random_state=0, **params),
    )


def _searches(X, Y, on_dask: bool) -> dict:
    """The three searches, sequentially (one torch thread) or on the cluster."""

    def run():
        grid = GridSearchCV(_pipe(), GRID, cv=CV).fit(X, Y)
        cv = cross_validate(_pipe(), X, Y, cv=CV, return_estimator=True)
        conditioned = _pipe(weighting=WeightConditioned(random_state=0))
        weights = TaskWeightSearchCV(conditioned, GRID, cv=CV).fit(X, Y)
        return {"grid": grid, "cv": cv, "weights": weights}

    if not on_dask:
        with torch_threads(1):
            return run()

    def on_cluster():  # joblib's backend setting is per thread: set it in this one
        with joblib.parallel_config(backend="dask", wait_for_workers_timeout=60):
            return run()

    # A bounded wait: a hung cluster fails the test instead of blocking the run.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(on_cluster).result(timeout=TIMEOUT)


def _assert_same_results(got: dict, expected: dict):
    assert list(got) == list(expected)
    for key, value in expected.items():
        if key.endswith("_time"):
            continue
        if key == "params":
            assert got[key] == value
        else:
            # Exact: same seeds and the same (single) torch thread in both runs.
            np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(value), err_msg=key)


@pytest.fixture(scope="module")
def results(client, data):
    X, Y = data
    return _searches(X, Y, on_dask=False), _searches(X, Y, on_dask=True)


def test_grid_search_over_a_task_weight(results):
    sequential, on_dask = results
    _assert_same_results(on_dask["grid"].cv_results_, sequential["grid"].cv_results_)
    assert on_dask["grid"].best_params_ == sequential["grid"].best_params_


def test_cross_validate(results, data):
    sequential, on_dask = results
    np.testing.assert_array_equal(on_dask["cv"]["test_score"], sequential["cv"]["test_score"])
    X, _ = data
    pairs = zip(on_dask["cv"]["estimator"], sequential["cv"]["estimator"], strict=True)
    for remote, local in pairs:
        # The fitted networks themselves, sent back from the workers, bit for bit.
        remote_state = remote[-1].module_.state_dict()
        for name, tensor in local[-1].module_.state_dict().items():
            assert torch.equal(remote_state[name], tensor), name
        remote_proba, local_proba = remote.predict_proba(X[:20]), local.predict_proba(X[:20])
        for got, expected in zip(remote_proba, local_proba, strict=True):  # one per task
            np.testing.assert_array_equal(got, expected)


def test_task_weight_search(results):
    sequential, on_dask = results
    _assert_same_results(on_dask["weights"].cv_results_, sequential["weights"].cv_results_)
    assert on_dask["weights"].best_params_ == sequential["weights"].best_params_


class _ThreadRecordingClassifier(MultiTaskClassifier):
    def _fitted_extras(self, tasks, layout) -> dict:
        return {**super()._fitted_extras(tasks, layout), "fit_threads_": torch.get_num_threads()}


def _fit_in_worker(preset: int) -> dict:
    torch.set_num_threads(preset)  # as code that ran before on this worker might
    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 5)).astype(np.float32)
    model = _ThreadRecordingClassifier(hidden_layer_sizes=(4,), max_epochs=1, random_state=0)
    model.fit(X, (X[:, :2] > 0).astype(int))
    return {
        "share": worker_num_threads(),
        "fit": model.fit_threads_,
        "after": torch.get_num_threads(),
        "omp": os.environ.get("OMP_NUM_THREADS"),
        "thread": threading.current_thread().name,
    }


def test_dask_worker_fits_on_one_thread(client):
    """A task of a worker with threads_per_worker=1 trains on 1 torch thread, and the
    count the task found is restored after the fit."""
    futures = client.map(_fit_in_worker, [2, 3], pure=False)
    distributed.wait(futures, timeout=TIMEOUT)
    records = client.gather(futures)
    assert [(r["share"], r["fit"], r["after"]) for r in records] == [(1, 1, 2), (1, 1, 3)]
    # distributed's nannies start workers with OMP_NUM_THREADS=1 (pre-spawn-environ).
    assert {r["omp"] for r in records} == {"1"}
