"""Core benchmark: skmtl vs. a hand-written torch loop, skorch and sklearn on GoEmotions.

The same model is trained four ways on TF-IDF features of the GoEmotions
train split (three multilabel tasks: emotion, ekman, sentiment):

* ``skmtl``       -- :class:`skmtl.MultiTaskClassifier`.
* ``handwritten`` -- an idiomatic torch loop: ``nn.EmbeddingBag`` over the CSR
  rows (sparse input, never densified), per-epoch shuffle, AdamW, no extras.
* ``skorch``      -- :class:`skorch.NeuralNet` with an equivalent module. skorch's
  ``Dataset`` accepts a scipy CSR matrix but densifies it row by row
  (``X[i].toarray()``) and the default collate stacks the rows, so the module
  sees dense ``(batch, n_features)`` batches and uses a dense ``nn.Linear``.
  That is what a typical skorch user gets when passing TF-IDF to ``fit``.
* ``sklearn``     -- :class:`sklearn.neural_network.MLPClassifier` on the
  concatenated 0/1 indicator matrix of all three tasks (sparse X supported).

Model: one shared hidden layer (256, ReLU) and one linear multilabel head per
task. Loss (torch methods, as skmtl defines it): sum over tasks of the
BCE-with-logits summed over the task's labels and averaged over the batch rows.
sklearn's MLP minimises the same summed log-loss over all 39 outputs averaged
over rows, plus an L2 penalty ``alpha`` (not the
decoupled AdamW weight decay) with Glorot init; it is the closest sklearn has.

Measured: fit wall time (``time.perf_counter`` around ``fit`` only), predict
time on the test split, and test macro-F1 per task at threshold 0.5 on all of
the task's label columns.

Usage::

    .venv/bin/python benchmarks/bench_core_goemotions.py ../shared/data
    .venv/bin/python benchmarks/bench_core_goemotions.py ../shared/data --quick
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _common import machine_info
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import MultiLabelBinarizer
from torch import nn
from torch.nn import functional as F

TASKS = ("emotion", "ekman", "sentiment")
METHODS = ("skmtl", "handwritten", "skorch", "sklearn", "handwritten_fused")


# --------------------------------------------------------------------------- data


def load_data(data_root: str, quick: bool, seed: int):
    from skmtl.datasets import load_goemotions

    path = Path(data_root) / "goemotions"
    train = load_goemotions(path, split="train")
    test = load_goemotions(path, split="test")
    text_tr, Y_tr = train.text, train.targets.reset_index(drop=True)
    text_te, Y_te = test.text, test.targets.reset_index(drop=True)
    if quick:
        rng = np.random.RandomState(seed)
        tr = np.sort(rng.choice(len(text_tr), 4000, replace=False))
        te = np.sort(rng.choice(len(text_te), 1000, replace=False))
        text_tr = [text_tr[i] for i in tr]
        text_te = [text_te[i] for i in te]
        Y_tr = Y_tr.iloc[tr].reset_index(drop=True)
        Y_te = Y_te.iloc[te].reset_index(drop=True)
    # Label columns of each task, sorted (the order skmtl uses for tasks_[t].classes).
    labels = {t: sorted(getattr(train, f"{t}_names")) for t in TASKS}
    return text_tr, Y_tr, text_te, Y_te, labels


def featurize(text_tr, text_te, max_features: int):
    vec = TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=2,
        max_features=max_features,
        dtype=np.float32,
    )
    X_tr = vec.fit_transform(text_tr).astype(np.float32).tocsr()
    X_te = vec.transform(text_te).astype(np.float32).tocsr()
    X_tr.sort_indices()
    X_te.sort_indices()
    return X_tr, X_te


def indicators(Y, labels) -> dict[str, np.ndarray]:
    """Per-task 0/1 float32 indicator matrices, columns in ``labels[t]`` order."""
    out = {}
    for t in TASKS:
        mlb = MultiLabelBinarizer(classes=labels[t])
        out[t] = mlb.fit_transform(Y[t]).astype(np.float32)
    return out


# --------------------------------------------------------------------------- methods


def run_skmtl(X_tr, Y_tr, X_te, labels, cfg):
    from skmtl import MultiTaskClassifier

    model = MultiTaskClassifier(
        hidden_layer_sizes=(cfg["hidden"],),
        activation="relu",
        dropout=0.0,
        learning_rate=cfg["lr"],
        weight_decay=cfg["weight_decay"],
        batch_size=cfg["batch_size"],
        max_epochs=cfg["epochs"],
        early_stopping=False,
        random_state=cfg["seed"],
    )
    tic = time.perf_counter()
    model.fit(X_tr, Y_tr)
    fit_s = time.perf_counter() - tic

    tic = time.perf_counter()
    proba = model.predict_proba(X_te)
    proba_s = time.perf_counter() - tic
    tic = time.perf_counter()
    pred = model.predict(X_te)
    predict_s = time.perf_counter() - tic

    out = {}
    for t, p in zip(model.tasks_, proba, strict=True):
        classes = [str(c) for c in model.tasks_[t].classes]
        if classes != labels[t]:
            raise RuntimeError(f"skmtl classes of {t} {classes} differ from {labels[t]}")
        out[t] = p
    # predict() must agree with thresholding predict_proba at 0.5.
    for t in TASKS:
        mlb = MultiLabelBinarizer(classes=labels[t])
        if not np.array_equal(mlb.fit_transform(pred[t]), out[t] >= 0.5):
            raise RuntimeError(f"skmtl predict() and predict_proba() >= 0.5 disagree for {t}")
    return {
        "fit_s": fit_s,
        "predict_proba_s": proba_s,
        "predict_s": predict_s,
        "proba": out,
        "final_train_loss": float(model.history_[-1]["train_loss"]),
    }


class HandwrittenNet(nn.Module):
    """EmbeddingBag (sparse first layer) + bias, ReLU, one linear head per task."""

    def __init__(self, n_features, hidden, sizes):
        super().__init__()
        self.emb = nn.EmbeddingBag(n_features, hidden, mode="sum")
        self.bias = nn.Parameter(torch.empty(hidden))
        bound = 1.0 / np.sqrt(n_features)  # nn.Linear's default init, as the others use
        nn.init.uniform_(self.emb.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)
        self.heads = nn.ModuleList(nn.Linear(hidden, k) for k in sizes)

    def forward(self, indices, offsets, values):
        h = F.relu(self.emb(indices, offsets, per_sample_weights=values) + self.bias)
        return [head(h) for head in self.heads]


def run_handwritten(X_tr, Ytr_ind, X_te, labels, cfg, fused=False):
    torch.manual_seed(cfg["seed"])
    rng = np.random.RandomState(cfg["seed"])
    sizes = [len(labels[t]) for t in TASKS]
    Y = np.hstack([Ytr_ind[t] for t in TASKS])
    bounds = np.cumsum([0, *sizes])

    def tensors(X):
        return (
            torch.from_numpy(X.indices.astype(np.int64)),
            X.indptr.astype(np.int64),
            torch.from_numpy(X.data),
        )

    tic = time.perf_counter()
    net = HandwrittenNet(X_tr.shape[1], cfg["hidden"], sizes)
    extra = {"fused": True} if fused else {}
    opt = torch.optim.AdamW(
        net.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"], **extra
    )
    n, bs = X_tr.shape[0], cfg["batch_size"]
    net.train()
    for _ in range(cfg["epochs"]):
        perm = rng.permutation(n)
        indices, indptr, values = tensors(X_tr[perm])
        Yp = torch.from_numpy(Y[perm])
        for a in range(0, n, bs):
            b = min(a + bs, n)
            lo, hi = indptr[a], indptr[b]
            offsets = torch.from_numpy(indptr[a:b] - lo)
            outs = net(indices[lo:hi], offsets, values[lo:hi])
            yb = Yp[a:b]
            # Per task: BCE summed over its labels, averaged over rows; summed over tasks.
            loss = sum(
                F.binary_cross_entropy_with_logits(
                    o, yb[:, bounds[j] : bounds[j + 1]], reduction="sum"
                )
                for j, o in enumerate(outs)
            ) / (b - a)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    fit_s = time.perf_counter() - tic

    tic = time.perf_counter()
    net.eval()
    indices, indptr, values = tensors(X_te)
    chunks = []
    with torch.inference_mode():
        for a in range(0, X_te.shape[0], 2048):
            b = min(a + 2048, X_te.shape[0])
            lo, hi = indptr[a], indptr[b]
            outs = net(indices[lo:hi], torch.from_numpy(indptr[a:b] - lo), values[lo:hi])
            chunks.append([torch.sigmoid(o).numpy() for o in outs])
    proba = {t: np.concatenate([c[j] for c in chunks]) for j, t in enumerate(TASKS)}
    proba_s = time.perf_counter() - tic
    return {
        "fit_s": fit_s,
        "predict_proba_s": proba_s,
        "proba": proba,
        "final_train_loss": float(loss.detach()),
    }


class SkorchModule(nn.Module):
    """Dense Linear -> ReLU -> per-task linear heads, outputs concatenated."""

    def __init__(self, n_features, hidden, sizes):
        super().__init__()
        self.hidden = nn.Linear(n_features, hidden)
        self.heads = nn.ModuleList(nn.Linear(hidden, k) for k in sizes)

    def forward(self, X):
        h = F.relu(self.hidden(X))
        return torch.cat([head(h) for head in self.heads], dim=1)


class MultiTaskBCE(nn.Module):
    """Sum over tasks of the task's BCE-with-logits summed over its labels, mean over rows."""

    def __init__(self, sizes):
        super().__init__()
        self.bounds = np.cumsum([0, *sizes]).tolist()

    def forward(self, y_pred, y_true):
        b = self.bounds
        return (
            sum(
                F.binary_cross_entropy_with_logits(
                    y_pred[:, b[j] : b[j + 1]], y_true[:, b[j] : b[j + 1]], reduction="sum"
                )
                for j in range(len(b) - 1)
            )
            / y_pred.shape[0]
        )


def run_skorch(X_tr, Ytr_ind, X_te, labels, cfg):
    from skorch import NeuralNet

    torch.manual_seed(cfg["seed"])
    sizes = [len(labels[t]) for t in TASKS]
    Y = np.hstack([Ytr_ind[t] for t in TASKS])
    net = NeuralNet(
        module=SkorchModule,
        module__n_features=X_tr.shape[1],
        module__hidden=cfg["hidden"],
        module__sizes=sizes,
        criterion=MultiTaskBCE,
        criterion__sizes=sizes,
        optimizer=torch.optim.AdamW,
        lr=cfg["lr"],
        optimizer__weight_decay=cfg["weight_decay"],
        batch_size=cfg["batch_size"],
        max_epochs=cfg["epochs"],
        train_split=None,
        iterator_train__shuffle=True,
        device="cpu",
        verbose=0,
    )
    tic = time.perf_counter()
    net.fit(X_tr, Y)  # CSR in: skorch densifies each row, batches are dense
    fit_s = time.perf_counter() - tic

    tic = time.perf_counter()
    logits = net.forward(X_te)
    allp = torch.sigmoid(logits).numpy()
    proba_s = time.perf_counter() - tic
    b = np.cumsum([0, *sizes])
    proba = {t: allp[:, b[j] : b[j + 1]] for j, t in enumerate(TASKS)}
    return {
        "fit_s": fit_s,
        "predict_proba_s": proba_s,
        "proba": proba,
        "final_train_loss": float(net.history[-1, "train_loss"]),
    }


def run_sklearn(X_tr, Ytr_ind, X_te, labels, cfg):
    sizes = [len(labels[t]) for t in TASKS]
    Y = np.hstack([Ytr_ind[t] for t in TASKS]).astype(np.int64)
    clf = MLPClassifier(
        hidden_layer_sizes=(cfg["hidden"],),
        activation="relu",
        solver="adam",
        alpha=cfg["weight_decay"],
        batch_size=cfg["batch_size"],
        learning_rate_init=cfg["lr"],
        max_iter=cfg["epochs"],
        early_stopping=False,
        n_iter_no_change=cfg["epochs"] + 1,  # never stop before max_iter
        shuffle=True,
        random_state=cfg["seed"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tic = time.perf_counter()
        clf.fit(X_tr, Y)
        fit_s = time.perf_counter() - tic
    tic = time.perf_counter()
    allp = clf.predict_proba(X_te)
    proba_s = time.perf_counter() - tic
    b = np.cumsum([0, *sizes])
    proba = {t: allp[:, b[j] : b[j + 1]] for j, t in enumerate(TASKS)}
    return {
        "fit_s": fit_s,
        "predict_proba_s": proba_s,
        "proba": proba,
        "final_train_loss": float(clf.loss_),
        "n_iter": int(clf.n_iter_),
    }


# --------------------------------------------------------------------------- reporting


def macro_f1(proba, Yte_ind) -> dict[str, float]:
    return {
        t: float(f1_score(Yte_ind[t], proba[t] >= 0.5, average="macro", zero_division=0))
        for t in TASKS
    }


def core_machine_info() -> dict:
    blas = None
    try:
        from threadpoolctl import threadpool_info

        blas = [
            {k: p.get(k) for k in ("internal_api", "num_threads", "version")}
            for p in threadpool_info()
        ]
    except Exception:  # pragma: no cover - informational only
        pass
    return machine_info("skorch", blas=blas)


def markdown(result: dict) -> str:
    s, r = result["settings"], result["results"]
    m = result["machine"]
    lines = [
        "# Core benchmark: GoEmotions (3 multilabel tasks)",
        "",
        f"Machine: {m['cpu_count']} CPUs, torch {m['torch']} "
        f"({m['torch_num_threads']} threads), sklearn {m['sklearn']}, skorch {m['skorch']}, "
        f"skmtl {m['skmtl']}, Python {m['python']}.",
        "",
        f"Data: {s['n_train']} train / {s['n_test']} test comments, TF-IDF "
        f"{s['n_features']} features (word 1-2 grams, sublinear_tf, min_df=2), "
        f"{s['nnz_per_row_train']:.1f} non-zeros per row"
        f"{' (--quick subset)' if s['quick'] else ''}.",
        f"Model: shared {s['hidden']} ReLU; heads {s['label_counts']}; "
        f"{s['epochs']} epochs, batch {s['batch_size']}, lr {s['lr']}, "
        f"weight decay {s['weight_decay']} (AdamW; sklearn: alpha), seed {s['seed']}.",
        f"Timing: fit time is the {s['timing_statistic']} of {s['repeats']} fit(s) for the "
        f"torch methods (skmtl and handwritten interleaved); sklearn fitted "
        f"{s['sklearn_repeats']} time(s). Load average at start / end: "
        f"{result['loadavg_start'][0]:.1f} / {result['loadavg_end'][0]:.1f} "
        f"(shared machine: other processes may compete for the {m['cpu_count']} cores).",
        "",
        "| method | fit s (min) | fit runs s | predict s | "
        + " | ".join(f"F1 {t}" for t in TASKS)
        + " | F1 mean |",
        "|---|---:|---|---:|" + "---:|" * (len(TASKS) + 1),
    ]
    for name in METHODS:
        if name not in r:
            continue
        x = r[name]
        runs = ", ".join(f"{v:.1f}" for v in x["fit_s_runs"])
        f1 = " | ".join(f"{x['macro_f1'][t]:.4f}" for t in TASKS)
        lines.append(
            f"| {name} | {x['fit_s']:.1f} | {runs} | {x['predict_proba_s']:.2f} | {f1} | "
            f"{x['macro_f1_mean']:.4f} |"
        )
    lines += ["", "| ratio (fit time) | value | target | met |", "|---|---:|---:|---|"]
    for key, val in result["ratios"].items():
        tgt = result["targets"].get(key)
        met = result["targets_met"].get(key)
        tgt_s = f"<= {tgt}" if tgt is not None else ""
        met_s = "" if met is None else ("yes" if met else "NO")
        lines.append(f"| {key} | {val:.3f} | {tgt_s} | {met_s} |")
    lines += [
        "",
        f"F1 target (skmtl macro-F1 >= handwritten and skorch on every task, "
        f"tolerance {result['f1_tolerance']}): "
        f"{'yes' if result['targets_met']['f1'] else 'NO'}.",
        "",
        "skmtl predict() (DataFrame of label tuples) on the test set: "
        f"{r['skmtl'].get('predict_s', float('nan')):.2f} s.",
        "",
        "Notes: " + " ".join(result["notes"]),
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data_root", help="directory holding goemotions/ (e.g. ../shared/data)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--max-features", type=int, default=20_000)
    p.add_argument(
        "--repeats",
        type=int,
        default=2,
        help="fits of each torch-based method; the minimum is reported",
    )
    p.add_argument(
        "--skorch-repeats",
        type=int,
        default=None,
        help="fits of skorch (default 1: it is the slowest and far from the target)",
    )
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--out",
        default=None,
        help="JSON path (default benchmarks/results/core_goemotions.json, "
        "core_goemotions_quick.json with --quick); a .md table is written next to it",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 4000 train / 1000 test rows, 2 epochs, 1 repeat",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.epochs = min(args.epochs, 2)
        args.repeats = 1
    if args.out is None:
        name = "core_goemotions_quick.json" if args.quick else "core_goemotions.json"
        args.out = str(Path("benchmarks/results") / name)
    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - set(METHODS)
    if unknown:
        p.error(f"unknown methods {sorted(unknown)}; choose from {METHODS}")
    skorch_repeats = 1 if args.skorch_repeats is None else args.skorch_repeats

    t0 = time.perf_counter()
    load_start = os.getloadavg()
    text_tr, Y_tr, text_te, Y_te, labels = load_data(args.data_root, args.quick, args.seed)
    X_tr, X_te = featurize(text_tr, text_te, args.max_features)
    Ytr_ind, Yte_ind = indicators(Y_tr, labels), indicators(Y_te, labels)
    print(
        f"data: train {X_tr.shape} nnz/row {X_tr.nnz / X_tr.shape[0]:.1f}, test {X_te.shape}; "
        f"labels {[len(labels[t]) for t in TASKS]}; prep {time.perf_counter() - t0:.1f}s",
        flush=True,
    )

    cfg = dict(
        hidden=args.hidden,
        lr=args.lr,
        weight_decay=args.weight_decay,
        batch_size=args.batch_size,
        epochs=args.epochs,
        seed=args.seed,
    )
    runners = {
        "skmtl": lambda: run_skmtl(X_tr, Y_tr, X_te, labels, cfg),
        "handwritten": lambda: run_handwritten(X_tr, Ytr_ind, X_te, labels, cfg),
        "skorch": lambda: run_skorch(X_tr, Ytr_ind, X_te, labels, cfg),
        "sklearn": lambda: run_sklearn(X_tr, Ytr_ind, X_te, labels, cfg),
        "handwritten_fused": lambda: run_handwritten(X_tr, Ytr_ind, X_te, labels, cfg, True),
    }
    n_runs = {
        "skmtl": args.repeats,
        "handwritten": args.repeats,
        "skorch": skorch_repeats,
        "sklearn": 1,
        "handwritten_fused": args.repeats,
    }
    # Interleave the repeats (skmtl, handwritten, skmtl, handwritten, ...) so slow drift
    # of the machine affects both alike.
    schedule = []
    for i in range(max(n_runs[m] for m in methods)):
        schedule += [m for m in methods if i < n_runs[m]]
    runs: dict[str, list[dict]] = {m: [] for m in methods}
    for m in schedule:
        gc.collect()
        cpu = time.process_time()
        res = runners[m]()
        res["cpu_s"] = time.process_time() - cpu  # process CPU time of fit + predict
        runs[m].append(res)
        print(
            f"  {m:12s} fit {res['fit_s']:7.2f}s  predict {res['predict_proba_s']:.2f}s  "
            f"final train loss {res['final_train_loss']:.4f}",
            flush=True,
        )

    results = {}
    for m in methods:
        rs = runs[m]
        fits = [r["fit_s"] for r in rs]
        best = min(rs, key=lambda r: r["fit_s"])
        f1s = [macro_f1(r["proba"], Yte_ind) for r in rs]
        entry = {
            "fit_s": min(fits),
            "fit_s_median": statistics.median(fits),
            "fit_s_runs": fits,
            "cpu_s_runs": [r["cpu_s"] for r in rs],
            "predict_proba_s": min(r["predict_proba_s"] for r in rs),
            "macro_f1": f1s[0],  # seeded: every run gives the same model
            "macro_f1_runs": f1s,
            "macro_f1_mean": float(np.mean(list(f1s[0].values()))),
            "final_train_loss": best["final_train_loss"],
        }
        if "predict_s" in best:
            entry["predict_s"] = min(r["predict_s"] for r in rs)
        if "n_iter" in best:
            entry["n_iter"] = best["n_iter"]
        results[m] = entry

    ratios, targets, met = {}, {}, {}
    target_of = {"handwritten": 1.1, "skorch": 0.7, "sklearn": None, "handwritten_fused": None}
    if "skmtl" in results:
        for other in ("handwritten", "skorch", "sklearn", "handwritten_fused"):
            if other in results:
                key = f"skmtl/{other}"
                ratios[key] = results["skmtl"]["fit_s"] / results[other]["fit_s"]
                targets[key] = target_of[other]
                met[key] = None if target_of[other] is None else ratios[key] <= target_of[other]
    tol = 0.005
    if "skmtl" in results:
        met["f1"] = all(
            results["skmtl"]["macro_f1"][t] >= results[o]["macro_f1"][t] - tol
            for o in ("handwritten", "skorch")
            if o in results
            for t in TASKS
        )

    notes = [
        "Fit time brackets fit() only (TF-IDF excluded); for skmtl it includes its input "
        "validation and target encoding.",
        "predict s = predict_proba on the test split (skmtl: its public predict_proba).",
        "F1: sklearn f1_score(average='macro', zero_division=0) on all label columns of a "
        "task, threshold 0.5.",
        "skorch densifies CSR rows (Dataset.transform calls X[i].toarray()), so its first "
        "layer is a dense (batch x n_features) matmul.",
        "sklearn MLPClassifier: L2 alpha instead of decoupled weight decay, Glorot init, "
        "summed log-loss over the 39 outputs; not an identical objective.",
        "handwritten_fused is the hand-written loop with torch.optim.AdamW(..., fused=True); "
        "it is informational (not a target) and shows the cost of the default foreach AdamW "
        "on the 20k x 256 first-layer weight.",
        "cpu_s_runs: process CPU time (fit + predict) of each run, less sensitive than wall "
        "time to other processes on a shared machine; see loadavg_start/loadavg_end.",
    ]
    result = {
        "benchmark": "core_goemotions",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": core_machine_info(),
        "settings": {
            "quick": args.quick,
            "n_train": X_tr.shape[0],
            "n_test": X_te.shape[0],
            "n_features": X_tr.shape[1],
            "nnz_per_row_train": X_tr.nnz / X_tr.shape[0],
            "tfidf": {
                "ngram_range": [1, 2],
                "sublinear_tf": True,
                "min_df": 2,
                "max_features": args.max_features,
                "dtype": "float32",
            },
            "label_counts": {t: len(labels[t]) for t in TASKS},
            "hidden": args.hidden,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "weight_decay": args.weight_decay,
            "seed": args.seed,
            "repeats": args.repeats,
            "skorch_repeats": skorch_repeats,
            "sklearn_repeats": 1,
            "timing_statistic": "minimum",
            "threshold": 0.5,
        },
        "results": results,
        "ratios": ratios,
        "targets": targets,
        "targets_met": met,
        "f1_tolerance": tol,
        "notes": notes,
        "total_wall_s": time.perf_counter() - t0,
        "loadavg_start": list(load_start),
        "loadavg_end": list(os.getloadavg()),
    }

    print()
    hdr = f"{'method':12s} {'fit s':>8s} {'pred s':>7s} " + " ".join(f"{t:>9s}" for t in TASKS)
    print(hdr)
    for m in methods:
        x = results[m]
        print(
            f"{m:12s} {x['fit_s']:8.2f} {x['predict_proba_s']:7.2f} "
            + " ".join(f"{x['macro_f1'][t]:9.4f}" for t in TASKS)
        )
    for key, val in ratios.items():
        print(f"{key:22s} {val:6.3f}  target {targets[key]}  met {met[key]}")
    if "f1" in met:
        print(f"F1 target met: {met['f1']}")
    print(f"total {result['total_wall_s']:.0f}s")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(result))
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
