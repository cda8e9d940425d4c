"""How skmtl's training scales with sparse inputs: features, rows, SGDClassifier, search.

Parts (``--parts``, comma-separated; default ``features,rows,sgd``):

``features``
    Step time (median of ``--steps`` training steps after ``--warmup``; a step
    is everything between two ``on_batch_end`` of the engine: batch, forward,
    backward, optimiser step) and peak memory (the growth of the process's
    peak RSS during the fit) of ``MultiTaskClassifier`` (two binary tasks)
    against ``n_features``: random hashed sparse rows (20 non-zeros a row,
    L2-normalised), batch 256, hidden 64 for every size (10M x 256 would be a
    10 GB weight, 30 GB with Adam's moments, on a 24 GB machine; 10M x 64 x 4 B
    x 3 = 7.7 GB fits). ``sparse``: row-sparse gradients and SparseAdamW's lazy
    updates (``SparseAwareLinear.sparse_gradients=True``); ``dense``: the dense
    gradient and dense AdamW step of skmtl before (``sparse_gradients=False``),
    up to ``--dense-max-features``. Each configuration runs in a fresh
    process, so that its peak RSS is its own.
``rows``
    Epoch time against the number of rows: the GoEmotions train comments
    hashed with ``HashingVectorizer(n_features=2**20)`` and replicated to the
    row count, three tasks, the estimator's defaults (hidden 128, batch 128)
    with the default ``sparse_gradients="auto"``; the old dense path at
    ``--dense-rows`` (and its per-step time extrapolated to the others).
``sgd``
    skmtl (the ``emotion`` task alone, and the three tasks) against
    ``sklearn.linear_model.SGDClassifier`` (``log_loss``, one-vs-rest over each
    task's labels) on the same hashed features: rows per second of an epoch
    and test macro-F1 after ``--sgd-epochs`` epochs on the train split, then
    one epoch of each over ``--sgd-rows`` replicated rows.
``search``
    A task-weight ``GridSearchCV`` (``task_weights__emotion`` in 4 values,
    cv=2, on the GoEmotions sample shipped with skmtl) with ``n_jobs=1``,
    loky ``n_jobs=2``, and a ``distributed.LocalCluster(n_workers=2,
    threads_per_worker=1, processes=True)`` through
    ``joblib.parallel_config(backend="dask")``: wall time of each, speed-ups
    and whether the results equal ``n_jobs=1``'s.

Results: ``benchmarks/results/scale.json`` and ``scale.md`` (``--out``); a run
of some parts keeps the other parts' results already in the file. Times are
wall clock (``perf_counter``) and thread CPU time (``thread_time``, less
disturbed by other processes on a shared machine); torch runs ``--threads``
intra-op threads (1 by default).

Usage::

    .venv/bin/python benchmarks/bench_scale.py                      # ../shared/data
    .venv/bin/python benchmarks/bench_scale.py /path/to/data --parts features,sgd
    .venv/bin/python benchmarks/bench_scale.py --parts features --quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
DEFAULT_ROOT = HERE.parent.parent / "shared" / "data"
TASKS = ("emotion", "ekman", "sentiment")
PARTS = ("features", "rows", "sgd", "search")


# --------------------------------------------------------------------------- helpers


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _timed_classifier():
    """A MultiTaskClassifier whose engine also runs ``TimedClassifier.timer``."""
    from skmtl import MultiTaskClassifier
    from skmtl.engine import Callback

    class StepTimer(Callback):
        def on_epoch_begin(self, engine, epoch: int) -> None:
            self.marks = [(time.perf_counter(), time.thread_time())]

        def on_batch_end(self, engine) -> None:
            self.marks.append((time.perf_counter(), time.thread_time()))

        def steps(self):
            wall = np.diff([m[0] for m in self.marks])
            cpu = np.diff([m[1] for m in self.marks])
            return wall, cpu

    class TimedClassifier(MultiTaskClassifier):
        timer = StepTimer()

        def _callbacks(self) -> list:
            return [*super()._callbacks(), TimedClassifier.timer]

    return TimedClassifier


def _hashed_rows(n_rows: int, n_features: int, nnz: int, seed: int):
    """CSR of random hashed rows (``nnz`` columns a row, L2-normalised) and two tasks."""
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n_features, (n_rows, nnz), dtype=np.int64)
    indices.sort(axis=1)
    values = rng.random((n_rows, nnz), dtype=np.float32) + 0.1
    values /= np.linalg.norm(values, axis=1, keepdims=True)
    indptr = np.arange(0, n_rows * nnz + 1, nnz, dtype=np.int64)
    X = sp.csr_matrix((values.ravel(), indices.ravel(), indptr), shape=(n_rows, n_features))
    X.sum_duplicates()
    scores = X @ rng.standard_normal((n_features, 2), dtype=np.float32)
    Y = (scores > np.median(scores, axis=0)).astype(int)
    return X, Y


def _set_mode(mode: str) -> None:
    from skmtl.encoders import SparseAwareLinear

    SparseAwareLinear.sparse_gradients = {"sparse": True, "dense": False, "auto": "auto"}[mode]


# --------------------------------------------------------------------------- features


def features_child(spec: dict) -> dict:
    """One (n_features, mode) configuration, in this (fresh) process."""
    import torch

    torch.set_num_threads(spec["threads"])
    warnings.simplefilter("ignore")
    n_steps = spec["warmup"] + spec["steps"]
    X, Y = _hashed_rows(spec["batch_size"] * n_steps, spec["n_features"], spec["nnz"], 0)
    _set_mode(spec["mode"])
    cls = _timed_classifier()
    model = cls(
        hidden_layer_sizes=(spec["hidden"],),
        batch_size=spec["batch_size"],
        max_epochs=1,
        random_state=0,
    )
    base = _rss_bytes()
    tic = time.perf_counter()
    model.fit(X, Y)
    fit_s = time.perf_counter() - tic
    wall, cpu = cls.timer.steps()
    wall, cpu = wall[spec["warmup"] :], cpu[spec["warmup"] :]
    return {
        **spec,
        "step_wall_ms": 1e3 * float(np.median(wall)),
        "step_cpu_ms": 1e3 * float(np.median(cpu)),
        "step_wall_ms_all": [1e3 * float(v) for v in wall],
        "fit_s": fit_s,
        "peak_rss_growth_gb": (_peak_rss_bytes() - base) / 2**30,
        "weight_gb": spec["n_features"] * spec["hidden"] * 4 / 2**30,
        "sparse_gradient": _had_sparse(model),
    }


def _had_sparse(model) -> bool:
    """Whether the first layer's optimiser state has a lazy clock (it had sparse steps)."""
    return any("lazy_clock" in s for s in model.optimizer_.state.values())


def _run_child(spec: dict, timeout: float) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(spec["threads"])}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return {**spec, "error": f"timed out after {timeout:.0f} s"}
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return {**spec, "error": (out.stderr or out.stdout)[-2000:]}


def features_part(args) -> dict:
    sizes = [int(v) for v in args.features.split(",")]
    rows = []
    for n in sizes:
        for mode in ("sparse", "dense"):
            if mode == "dense" and n > args.dense_max_features:
                continue
            spec = {
                "n_features": n,
                "mode": mode,
                "hidden": args.hidden,
                "batch_size": args.batch_size,
                "nnz": 20,
                "warmup": args.warmup,
                "steps": args.steps,
                "threads": args.threads,
            }
            result = _run_child(spec, args.child_timeout)
            rows.append(result)
            print(_feature_line(result), flush=True)
    sparse = {r["n_features"]: r for r in rows if r["mode"] == "sparse" and "error" not in r}
    dense = {r["n_features"]: r for r in rows if r["mode"] == "dense" and "error" not in r}
    summary = {}
    if sparse:
        lo, hi = min(sparse), max(sparse)
        summary["sparse_step_ratio_max_over_min_features"] = (
            sparse[hi]["step_cpu_ms"] / sparse[lo]["step_cpu_ms"]
        )
        summary["range"] = [lo, hi]
        summary["auto_sparse_from_features"] = _auto_threshold(args)
        auto = {n: (sparse[n] if n >= _auto_threshold(args) else dense.get(n)) for n in sparse}
        if auto.get(lo) and auto.get(hi):
            summary["default_step_ratio_max_over_min_features"] = (
                auto[hi]["step_cpu_ms"] / auto[lo]["step_cpu_ms"]
            )
    return {"rows": rows, "summary": summary}


def _auto_threshold(args) -> int:
    """The n_features from which ``sparse_gradients="auto"`` takes the sparse path here."""
    from skmtl.encoders._layers import AUTO_ROWS_PER_NONZERO

    return AUTO_ROWS_PER_NONZERO * 20 * args.batch_size


def _feature_line(r: dict) -> str:
    if "error" in r:
        return f"{r['n_features']:>10,d} {r['mode']:6s} ERROR {r['error'][-300:]}"
    return (
        f"{r['n_features']:>10,d} {r['mode']:6s} step {r['step_wall_ms']:8.2f} ms wall "
        f"{r['step_cpu_ms']:8.2f} ms cpu  peak RSS +{r['peak_rss_growth_gb']:.2f} GB"
    )


# --------------------------------------------------------------------------- data


def _goemotions_hashed(root: Path, train_rows: int | None = None):
    from sklearn.feature_extraction.text import HashingVectorizer

    from skmtl.datasets import load_goemotions

    train = load_goemotions(root / "goemotions", split="train")
    test = load_goemotions(root / "goemotions", split="test")
    if train_rows and train_rows < len(train.text):
        train.text, train.targets = train.text[:train_rows], train.targets.iloc[:train_rows]
    vec = HashingVectorizer(
        n_features=2**20, ngram_range=(1, 2), alternate_sign=False, norm="l2", dtype=np.float32
    )
    data = {
        "X_train": vec.transform(train.text).tocsr(),
        "X_test": vec.transform(test.text).tocsr(),
        "Y_train": train.targets[list(TASKS)].reset_index(drop=True),
        "Y_test": test.targets[list(TASKS)].reset_index(drop=True),
        "labels": {t: sorted(getattr(train, f"{t}_names")) for t in TASKS},
    }
    return data


def _replicate(X, Y, n_rows: int):
    import pandas as pd

    k = -(-n_rows // X.shape[0])
    X = sp.vstack([X] * k, format="csr")[:n_rows]
    Y = pd.concat([Y] * k, ignore_index=True).iloc[:n_rows].reset_index(drop=True)
    return X, Y


def _macro_f1(pred, truth, labels, tasks) -> dict:
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import MultiLabelBinarizer

    out = {}
    for t in tasks:
        mlb = MultiLabelBinarizer(classes=labels[t]).fit([labels[t]])
        p = pred[t] if isinstance(pred[t], np.ndarray) and pred[t].ndim == 2 else None
        p = mlb.transform(pred[t]) if p is None else p
        out[t] = float(f1_score(mlb.transform(truth[t]), p, average="macro", zero_division=0))
    return out


# --------------------------------------------------------------------------- rows


def _skmtl_epochs(X, Y, args, epochs: int, mode: str = "auto"):
    from skmtl import MultiTaskClassifier

    _set_mode(mode)
    model = MultiTaskClassifier(
        hidden_layer_sizes=(args.rows_hidden,),
        batch_size=args.rows_batch_size,
        max_epochs=epochs,
        random_state=0,
    )
    tic = time.perf_counter()
    model.fit(X, Y)
    fit_s = time.perf_counter() - tic
    durs = [float(r["dur"]) for r in model.history_]
    return model, fit_s, durs


def rows_part(args) -> dict:
    data = _goemotions_hashed(Path(args.data_root))
    counts = [int(v) for v in args.rows.split(",")]
    dense_at = [int(v) for v in args.dense_rows.split(",") if v]
    results = []
    for n in sorted(set(counts) | set(dense_at)):
        X, Y = _replicate(data["X_train"], data["Y_train"], n)
        for mode in ("auto", "dense"):
            if (mode == "auto" and n not in counts) or (mode == "dense" and n not in dense_at):
                continue
            model, fit_s, durs = _skmtl_epochs(X, Y, args, 1, mode)
            steps = -(-n // args.rows_batch_size)
            results.append(
                {
                    "rows": n,
                    "mode": mode,
                    "nnz_per_row": X.nnz / n,
                    "epoch_s": durs[0],
                    "fit_s": fit_s,
                    "steps": steps,
                    "step_ms": 1e3 * durs[0] / steps,
                    "sparse_gradient": _had_sparse(model),
                }
            )
            r = results[-1]
            print(
                f"rows {n:>9,d} {mode:5s} epoch {r['epoch_s']:8.2f} s "
                f"({r['step_ms']:.2f} ms/step, fit {fit_s:.1f} s)",
                flush=True,
            )
            del model
    dense_steps = [r["step_ms"] for r in results if r["mode"] == "dense"]
    estimate = {}
    if dense_steps:
        per_step = statistics.median(dense_steps)
        for r in results:
            if r["mode"] == "auto":
                estimate[str(r["rows"])] = per_step * r["steps"] / 1e3
    return {
        "n_features": 2**20,
        "note": (
            "GoEmotions train comments (43,410) hashed with HashingVectorizer(n_features=2**20, "
            "ngram_range=(1, 2), alternate_sign=False, norm='l2'), replicated to the row count."
        ),
        "results": results,
        "dense_epoch_estimate_s": estimate,
    }


# --------------------------------------------------------------------------- sgd


def _sgd_fit(X, Y, labels, tasks, epochs: int):
    from sklearn.linear_model import SGDClassifier
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    models, total = {}, 0.0
    for t in tasks:
        mlb = MultiLabelBinarizer(classes=labels[t]).fit([labels[t]])
        y = mlb.transform(Y[t])
        clf = OneVsRestClassifier(
            SGDClassifier(loss="log_loss", max_iter=epochs, tol=None, random_state=0)
        )
        tic = time.perf_counter()
        clf.fit(X, y)
        total += time.perf_counter() - tic
        models[t] = clf
    return models, total


def sgd_part(args) -> dict:
    data = _goemotions_hashed(Path(args.data_root), args.sgd_train_rows)
    X, Y, Xt, Yt = data["X_train"], data["Y_train"], data["X_test"], data["Y_test"]
    labels, out = data["labels"], {"train_rows": X.shape[0], "epochs": args.sgd_epochs}
    for name, tasks in (("one_task", ("emotion",)), ("three_tasks", TASKS)):
        model, fit_s, durs = _skmtl_epochs(X, Y[list(tasks)], args, args.sgd_epochs)
        f1 = _macro_f1(model.predict(Xt), Yt, labels, tasks)
        sgd, sgd_s = _sgd_fit(X, Y, labels, tasks, args.sgd_epochs)
        sgd_f1 = _macro_f1({t: sgd[t].predict(Xt) for t in tasks}, Yt, labels, tasks)
        epoch = statistics.median(durs)
        out[name] = {
            "skmtl": {"epoch_s": epoch, "rows_per_s": X.shape[0] / epoch, "macro_f1": f1},
            "sgd": {
                "epoch_s": sgd_s / args.sgd_epochs,
                "rows_per_s": X.shape[0] * args.sgd_epochs / sgd_s,
                "n_binary_classifiers": sum(len(labels[t]) for t in tasks),
                "macro_f1": sgd_f1,
            },
        }
        print(
            f"sgd {name}: skmtl {epoch:.2f} s/epoch F1 {np.mean(list(f1.values())):.4f}; "
            f"SGD {sgd_s / args.sgd_epochs:.2f} s/epoch "
            f"F1 {np.mean(list(sgd_f1.values())):.4f}",
            flush=True,
        )
    Xr, Yr = _replicate(data["X_train"], data["Y_train"], args.sgd_rows)
    big = {}
    for name, tasks in (("one_task", ("emotion",)), ("three_tasks", TASKS)):
        _, _, durs = _skmtl_epochs(Xr, Yr[list(tasks)], args, 1)
        _, sgd_s = _sgd_fit(Xr, Yr, labels, tasks, 1)
        big[name] = {"skmtl_epoch_s": durs[0], "sgd_epoch_s": sgd_s, "ratio": durs[0] / sgd_s}
        print(
            f"sgd {name} {args.sgd_rows:,d} rows: skmtl {durs[0]:.2f} s, SGD {sgd_s:.2f} s "
            f"(x{durs[0] / sgd_s:.2f})",
            flush=True,
        )
    out["replicated"] = {"rows": args.sgd_rows, **big}
    return out


# --------------------------------------------------------------------------- search


def _search_data():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from skmtl.datasets import load_goemotions

    train = load_goemotions(split="train")
    X = TfidfVectorizer(sublinear_tf=True, min_df=2, dtype=np.float32).fit_transform(train.text)
    return X, train.targets[list(TASKS)]


def _grid(args):
    from sklearn.model_selection import GridSearchCV

    from skmtl import MultiTaskClassifier

    model = MultiTaskClassifier(
        hidden_layer_sizes=(args.search_hidden,), max_epochs=args.search_epochs, random_state=0
    )
    grid = {"task_weights__emotion": [0.5, 1.0, 2.0, 4.0]}
    return lambda n_jobs: GridSearchCV(model, grid, cv=2, n_jobs=n_jobs, refit=False)


def _warm_worker() -> int:
    """A tiny fit: a process's first fit pays about a second of one-off torch set-up,
    which is worker start-up, timed apart from the search."""
    warnings.simplefilter("ignore")
    from skmtl import MultiTaskClassifier

    X, Y = _search_data()
    MultiTaskClassifier(hidden_layer_sizes=(8,), max_epochs=1).fit(X[:64], Y.iloc[:64])
    return os.getpid()


def _timed_search(make, n_jobs, X, Y):
    search = make(n_jobs)
    tic = time.perf_counter()
    search.fit(X, Y)
    return time.perf_counter() - tic, search.cv_results_["mean_test_score"]


def _dask_search(make, X, Y, unset_trim: bool):
    """``(search result, cluster start-up s)`` on a 2-worker local Dask cluster."""
    import dask
    import joblib
    from distributed import Client, LocalCluster

    key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    tic = time.perf_counter()
    with (
        dask.config.set({key: None} if unset_trim else {}),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm_worker)
        start_s = time.perf_counter() - tic
        with joblib.parallel_config(backend="dask"):
            return _timed_search(make, -1, X, Y), start_s


def search_part(args) -> dict:
    """The task-weight GridSearchCV: sequential, loky (2 jobs) and a 2-worker Dask cluster."""
    import joblib

    X, Y = _search_data()
    make, runs, start = _grid(args), {}, {}
    _warm_worker()
    runs["n_jobs=1"] = _timed_search(make, 1, X, Y)
    tic = time.perf_counter()
    joblib.Parallel(n_jobs=2)(joblib.delayed(_warm_worker)() for _ in range(4))
    start["loky"] = time.perf_counter() - tic
    runs["loky n_jobs=2"] = _timed_search(make, 2, X, Y)
    # distributed's nanny gives its workers MALLOC_TRIM_THRESHOLD_=65536 by default, so
    # glibc hands freed memory back at once and torch's temporaries are page-faulted in
    # again at every step; measured with that default, and with it unset.
    for name, trim in (("dask 2 workers", False), ("dask 2 workers, no malloc trim", True)):
        runs[name], start[name] = _dask_search(make, X, Y, unset_trim=trim)
    base_s, base_scores = runs["n_jobs=1"]
    for name, (s, _) in runs.items():
        print(f"search {name}: {s:.1f} s (x{base_s / s:.2f})", flush=True)
    return {
        "n_rows": X.shape[0],
        "candidates": 4,
        "cv": 2,
        "hidden": args.search_hidden,
        "epochs": args.search_epochs,
        "worker_start_s": start,
        "runs": {
            name: {
                "wall_s": s,
                "speedup": base_s / s,
                "mean_test_score": [float(v) for v in scores],
                "equal_to_n_jobs_1": bool(np.array_equal(scores, base_scores)),
                "max_abs_diff": float(np.max(np.abs(scores - base_scores))),
            }
            for name, (s, scores) in runs.items()
        },
    }


# --------------------------------------------------------------------------- report


def _md_features(part: dict) -> list[str]:
    lines = [
        "## Step time and memory against n_features",
        "",
        "| n_features | path | step (ms, wall) | step (ms, CPU) | peak RSS growth (GiB) "
        "| first-layer weight (GiB) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in part["rows"]:
        if "error" in r:
            lines.append(f"| {r['n_features']:,} | {r['mode']} | error | | | |")
            continue
        lines.append(
            f"| {r['n_features']:,} | {r['mode']} | {r['step_wall_ms']:.2f} | "
            f"{r['step_cpu_ms']:.2f} | {r['peak_rss_growth_gb']:.2f} | {r['weight_gb']:.2f} |"
        )
    s = part.get("summary", {})
    if s:
        lo, hi = s["range"]
        lines += [
            "",
            f"Sparse path, step CPU time at {hi:,} / at {lo:,} features: "
            f"**x{s['sparse_step_ratio_max_over_min_features']:.2f}** (goal <= 2).",
        ]
        if "default_step_ratio_max_over_min_features" in s:
            lines.append(
                f"Default (`sparse_gradients='auto'`: the dense path below "
                f"{s['auto_sparse_from_features']:,} features at this batch, which is the "
                f"faster one there): x{s['default_step_ratio_max_over_min_features']:.2f}."
            )
    lines += [
        "",
        "Peak RSS growth is the fit's: the weight, Adam's two moments (created at the first "
        "step) and transients. The largest transient is the engine's end-of-epoch check that "
        "the weights are finite: `torch.isfinite` on a float tensor allocates about 1.75x "
        "its size (3.6 GiB of the 10M row's 11.5 GiB; a chunked check would remove it).",
    ]
    return lines + [""]


def _md_rows(part: dict) -> list[str]:
    lines = [
        "## Epoch time against rows (2^20 hashed features)",
        "",
        part["note"],
        "",
        "`auto`: the default `sparse_gradients='auto'` (row-sparse here); `dense`: the old "
        "dense gradient path (`sparse_gradients=False`), measured at the rows given and "
        "estimated for the others as its measured ms/step x steps. One epoch per fit; the "
        "epoch includes one-off costs (the first step creates Adam's moments, 1 GB here; the "
        "end of the epoch checks that the weights are finite), which dominate the smallest row "
        "count. The whole fit adds the preparation of X and the final flush of the rows.",
        "",
        "| rows | path | nnz/row | steps | epoch (s) | ms/step | whole fit (s) | old dense "
        "path, estimated epoch (s) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    est = part.get("dense_epoch_estimate_s", {})
    for r in part["results"]:
        e = est.get(str(r["rows"])) if r["mode"] == "auto" else None
        lines.append(
            f"| {r['rows']:,} | {r['mode']} | {r['nnz_per_row']:.1f} | {r['steps']:,} | "
            f"{r['epoch_s']:.2f} | {r['step_ms']:.2f} | {r['fit_s']:.1f} | "
            f"{'' if e is None else f'{e:.0f}'} |"
        )
    return lines + [""]


def _md_sgd(part: dict) -> list[str]:
    lines = [
        "## skmtl against SGDClassifier (2^20 hashed features)",
        "",
        f"Train split: {part['train_rows']:,} rows, {part['epochs']} epochs; test macro-F1 "
        "(mean over the tasks). SGD: `OneVsRestClassifier(SGDClassifier(loss='log_loss'))` "
        "per task (one binary classifier per label).",
        "",
        "| tasks | method | epoch (s) | rows/s | macro-F1 |",
        "|---|---|---:|---:|---:|",
    ]
    for name in ("one_task", "three_tasks"):
        for method in ("skmtl", "sgd"):
            r = part[name][method]
            f1 = np.mean(list(r["macro_f1"].values()))
            lines.append(
                f"| {name} | {method} | {r['epoch_s']:.2f} | {r['rows_per_s']:,.0f} | {f1:.4f} |"
            )
    rep = part["replicated"]
    lines += [
        "",
        f"One epoch over {rep['rows']:,} replicated rows:",
        "",
        "| tasks | skmtl (s) | SGD (s) | skmtl / SGD (goal <= 10) |",
        "|---|---:|---:|---:|",
    ]
    for name in ("one_task", "three_tasks"):
        r = rep[name]
        lines.append(
            f"| {name} | {r['skmtl_epoch_s']:.2f} | {r['sgd_epoch_s']:.2f} | {r['ratio']:.2f} |"
        )
    return lines + [""]


def _md_search(part: dict) -> list[str]:
    lines = [
        "## Task-weight GridSearchCV: n_jobs=1, loky, Dask",
        "",
        f"{part['candidates']} candidates x cv={part['cv']} on the {part['n_rows']:,}-row "
        f"GoEmotions sample (TF-IDF), hidden {part['hidden']}, {part['epochs']} epochs a fit, "
        "`refit=False`. Worker start-up and a first tiny fit in each worker (not in the "
        "times): "
        + ", ".join(f"{k} {v:.1f} s" for k, v in part["worker_start_s"].items())
        + ". Dask's nanny sets `MALLOC_TRIM_THRESHOLD_=65536` in its workers by default; "
        "the last run unsets it (`dask.config.set({'distributed.nanny.pre-spawn-environ."
        "MALLOC_TRIM_THRESHOLD_': None})` before creating the cluster).",
        "",
        "| run | wall (s) | speed-up (goal >= 1.6) | results equal n_jobs=1 |",
        "|---|---:|---:|---|",
    ]
    for name, r in part["runs"].items():
        lines.append(
            f"| {name} | {r['wall_s']:.1f} | {r['speedup']:.2f} | {r['equal_to_n_jobs_1']} |"
        )
    return lines + [""]


def markdown(result: dict) -> str:
    lines = ["# Scaling with sparse inputs (`benchmarks/bench_scale.py`)", ""]
    m = result.get("machine", {})
    lines += [
        f"Machine: {m.get('cpu_model')} ({m.get('cpu_affinity', m.get('cpu_count'))} "
        f"cores), torch {m.get('torch')}, {result.get('threads', 1)} torch thread(s).",
        "",
    ]
    writers = {"features": _md_features, "rows": _md_rows, "sgd": _md_sgd, "search": _md_search}
    for name in PARTS:
        if name in result.get("parts", {}):
            lines += writers[name](result["parts"][name])
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def _parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "data_root",
        nargs="?",
        default=str(DEFAULT_ROOT),
        help="directory holding goemotions/ (default ../shared/data)",
    )
    ap.add_argument("--parts", default="features,rows,sgd", help=f"subset of {','.join(PARTS)}")
    ap.add_argument("--features", default="10000,100000,1000000,10000000")
    ap.add_argument("--dense-max-features", type=int, default=1_000_000)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--child-timeout", type=float, default=1200.0)
    ap.add_argument("--rows", default="10000,100000,200000,1000000")
    ap.add_argument("--dense-rows", default="10000")
    ap.add_argument("--rows-hidden", type=int, default=128)
    ap.add_argument("--rows-batch-size", type=int, default=128)
    ap.add_argument("--sgd-epochs", type=int, default=5)
    ap.add_argument("--sgd-train-rows", type=int, default=None)
    ap.add_argument("--sgd-rows", type=int, default=200_000)
    ap.add_argument("--search-epochs", type=int, default=20)
    ap.add_argument("--search-hidden", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    ap.add_argument("--out", default=str(HERE / "results" / "scale.json"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.features, args.steps, args.warmup = "10000,100000", 10, 3
        args.rows, args.dense_rows, args.sgd_train_rows = "5000,20000", "5000", 5000
        args.sgd_rows, args.sgd_epochs, args.search_epochs = 20000, 2, 2
        if args.out == str(HERE / "results" / "scale.json"):
            args.out = str(HERE / "results" / "scale_quick.json")
    unknown = set(args.parts.split(",")) - set(PARTS)
    if unknown:
        ap.error(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
    return args


def main(argv=None) -> None:
    args = _parse(argv)
    if args.child:
        print("RESULT " + json.dumps(features_child(json.loads(args.child))), flush=True)
        return
    import torch
    from _common import machine_info

    torch.set_num_threads(args.threads)
    os.environ.setdefault("SKMTL_NUM_THREADS", str(args.threads))
    warnings.simplefilter("ignore")
    out = Path(args.out)
    result = json.loads(out.read_text()) if out.exists() else {}
    result.setdefault("parts", {})
    runners = {"features": features_part, "rows": rows_part, "sgd": sgd_part, "search": search_part}
    for name in args.parts.split(","):
        tic = time.perf_counter()
        load = os.getloadavg()
        part = runners[name](args)
        part["wall_s"], part["loadavg_start"] = time.perf_counter() - tic, list(load)
        part["loadavg_end"] = list(os.getloadavg())
        part["command"] = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if argv is None else ""
        result["parts"][name] = part
        result["machine"], result["threads"] = machine_info(), args.threads
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
        out.with_suffix(".md").write_text(markdown(result))
        print(f"[{name}] done in {part['wall_s']:.0f} s; wrote {out}", flush=True)


if __name__ == "__main__":
    main()
