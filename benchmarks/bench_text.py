"""Text benchmark: skmtl text trunks vs. tuned linear baselines on GoEmotions and EmoBank.

GoEmotions (three multilabel tasks on the same Reddit comments: ``emotion``
28 labels incl. neutral, ``ekman`` 7, ``sentiment`` 4), test macro-F1 per task:

* ``linear``       -- what a careful scikit-learn user builds: a FeatureUnion of
  word 1-2 gram and char_wb 2-5 gram TF-IDF (sublinear_tf) fitted on train, and per
  task a ``OneVsRestClassifier(LogisticRegression(solver="liblinear"))`` with C and
  class_weight chosen on dev by macro-F1 after per-label thresholds tuned on dev.
* ``mlp``          -- :class:`skmtl.MultiTaskClassifier` on the same sparse TF-IDF
  (one hidden layer, dropout), the feature road of skmtl.
* ``cnn``, ``bilstm``, ``transformer`` -- ``MultiTaskClassifier(encoder=TextEncoder(...),
  hidden_layer_sizes=())`` on the raw strings, trained end to end.

Every skmtl configuration is fitted once multi-task (``mt``: all tasks, one model) and
once per task (``st``: one model per task, same hyperparameters). Per-label decision
thresholds of every model are tuned on dev (``tune_thresholds`` on dev probabilities,
then ``set_params(threshold=...)``) and the test split is only scored.

EmoBank (regression of V, A, D on ~10k sentences), test Pearson r per dimension:
``linear`` = the same TF-IDF union + ``Ridge`` with alpha chosen on dev per dimension;
skmtl :class:`~skmtl.MultiTaskRegressor` multi-task (V, A, D) and single-task per
encoder and for the TF-IDF MLP.

Fit time (``time.perf_counter`` around ``fit``; TF-IDF fitting is timed apart) of every
model, and for each skmtl configuration the ratio of one multi-task fit to the sum of
its single-task fits.

Usage::

    .venv/bin/python benchmarks/bench_text.py ../shared/data
    .venv/bin/python benchmarks/bench_text.py ../shared/data --dataset emobank
    .venv/bin/python benchmarks/bench_text.py ../shared/data --quick
    .venv/bin/python benchmarks/bench_text.py ../shared/data --encoders cnn --epochs 3
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _common import machine_info
from scipy.stats import pearsonr
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import MultiLabelBinarizer

GO_TASKS = ("emotion", "ekman", "sentiment")
EB_TASKS = ("V", "A", "D")
ENCODERS = ("cnn", "bilstm", "transformer")

# Threshold grid for every model (tune_thresholds' default grid plus 0.01-0.04, so
# rare labels of well-calibrated models can get a low threshold).
THRESHOLD_GRID = np.round(
    np.concatenate([[0.01, 0.02, 0.03, 0.04], np.linspace(0.05, 0.95, 19)]), 2
)

# Default epochs (fixed epoch counts, no early stopping: predictable time on 2 cores).
# GoEmotions has 43k training comments, EmoBank 8k sentences.
DEFAULT_EPOCHS = {
    "goemotions": {"cnn": 4, "bilstm": 3, "transformer": 2, "mlp": 5},
    "emobank": {"cnn": 8, "bilstm": 6, "transformer": 5, "mlp": 10},
}
ENCODER_PARAMS = dict(
    embed_dim=96, width=128, depth=2, window=1, n_heads=4, pooling="mean+max", dropout=0.1
)
MAX_LENGTH = {"goemotions": 64, "emobank": 96}
TRAIN = {
    "encoder": dict(learning_rate=2e-3, batch_size=128, weight_decay=1e-4),
    "mlp": dict(
        hidden_layer_sizes=(256,),
        dropout=0.3,
        learning_rate=3e-3,
        batch_size=512,
        weight_decay=1e-4,
    ),
}
LR_GRID = [(c, cw) for c in (0.25, 1.0, 4.0) for cw in (None, "balanced")]
QUICK_LR_GRID = [(1.0, None), (1.0, "balanced")]
RIDGE_ALPHAS = (0.3, 1.0, 3.0, 10.0, 30.0)

# Targets.
F1_MARGIN = 0.02
EMOTION_MIN = 0.50
R_MARGIN = 0.05
FIT_LIMIT_S = 600.0
MT_RATIO_MAX = 0.6


# --------------------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {msg}", flush=True)


def subset(text, Y, n, seed):
    if n is None or n >= len(text):
        return list(text), Y.reset_index(drop=True)
    idx = np.sort(np.random.RandomState(seed).choice(len(text), n, replace=False))
    return [text[i] for i in idx], Y.iloc[idx].reset_index(drop=True)


def tfidf_union(max_char_features: int | None) -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, dtype=np.float32),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=3,
                    max_features=max_char_features,
                    dtype=np.float32,
                ),
            ),
        ]
    )


def featurize(text_tr, text_dev, text_te, max_char_features):
    tic = time.perf_counter()
    union = tfidf_union(max_char_features)
    X_tr = union.fit_transform(text_tr).astype(np.float32).tocsr()
    fit_s = time.perf_counter() - tic
    X_dev = union.transform(text_dev).astype(np.float32).tocsr()
    X_te = union.transform(text_te).astype(np.float32).tocsr()
    for X in (X_tr, X_dev, X_te):
        X.sort_indices()
    info = {
        "n_features": int(X_tr.shape[1]),
        "n_word_features": len(union.transformer_list[0][1].vocabulary_),
        "n_char_features": len(union.transformer_list[1][1].vocabulary_),
        "nnz_per_row_train": float(X_tr.nnz / X_tr.shape[0]),
        "fit_transform_train_s": fit_s,
        "word": "TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)",
        "char": "TfidfVectorizer(analyzer='char_wb', ngram_range=(2, 5), sublinear_tf=True, "
        f"min_df=3, max_features={max_char_features})",
    }
    return X_tr, X_dev, X_te, info


def parse_epochs(spec: str | None, dataset: str) -> dict[str, int]:
    epochs = dict(DEFAULT_EPOCHS[dataset])
    if not spec:
        return epochs
    for part in spec.split(","):
        if "=" in part:
            k, v = part.split("=")
            if k not in epochs:
                raise SystemExit(f"--epochs: unknown model {k!r}; choose from {sorted(epochs)}")
            epochs[k] = int(v)
        else:
            epochs = dict.fromkeys(epochs, int(part))
    return epochs


def make_encoder(arch: str, dataset: str, quick: bool):
    from skmtl.encoders import TextEncoder

    return TextEncoder(architecture=arch, max_length=MAX_LENGTH[dataset], **ENCODER_PARAMS)


def make_skmtl(kind: str, dataset: str, epochs: int, seed: int, quick: bool, regression: bool):
    from skmtl import MultiTaskClassifier, MultiTaskRegressor

    cls = MultiTaskRegressor if regression else MultiTaskClassifier
    common = dict(max_epochs=epochs, early_stopping=False, random_state=seed)
    if kind == "mlp":
        return cls(**TRAIN["mlp"], **common)
    return cls(
        encoder=make_encoder(kind, dataset, quick),
        hidden_layer_sizes=(),
        dropout=0.0,
        **TRAIN["encoder"],
        **common,
    )


def indicator(cells, labels) -> np.ndarray:
    return MultiLabelBinarizer(classes=list(labels)).fit([list(labels)]).transform(list(cells))


def macro_f1(Y_ind, proba, thr) -> float:
    return float(f1_score(Y_ind, proba >= np.asarray(thr), average="macro", zero_division=0))


# --------------------------------------------------------------------------- GoEmotions


def go_linear(X_tr, X_dev, X_te, Y_tr, Y_dev, Y_te, labels, grid, n_jobs):
    """Per task: OvR liblinear LR, (C, class_weight) chosen on dev after dev thresholds."""
    out = {"grid": [{"C": c, "class_weight": cw} for c, cw in grid], "tasks": {}}
    total = time.perf_counter()
    for t in GO_TASKS:
        ytr, ydev, yte = (indicator(Y[t], labels[t]) for Y in (Y_tr, Y_dev, Y_te))
        trials = []
        best = None
        for c, cw in grid:
            clf = OneVsRestClassifier(
                LogisticRegression(solver="liblinear", dual=True, C=c, class_weight=cw),
                n_jobs=n_jobs,
            )
            tic = time.perf_counter()
            clf.fit(X_tr, ytr)
            fit_s = time.perf_counter() - tic
            p_dev = clf.predict_proba(X_dev)
            thr = tune_thresholds_(ydev, p_dev)
            dev_f1 = macro_f1(ydev, p_dev, thr)
            trials.append({"C": c, "class_weight": cw, "fit_s": fit_s, "dev_macro_f1": dev_f1})
            log(f"  linear {t} C={c} cw={cw}: fit {fit_s:.1f}s dev macro-F1 {dev_f1:.4f}")
            if best is None or dev_f1 > best[0]:
                best = (dev_f1, c, cw, clf, thr, fit_s)
        dev_f1, c, cw, clf, thr, fit_s = best
        p_te = clf.predict_proba(X_te)
        out["tasks"][t] = {
            "C": c,
            "class_weight": cw,
            "fit_s": fit_s,
            "dev_macro_f1": dev_f1,
            "test_macro_f1": macro_f1(yte, p_te, thr),
            "test_macro_f1_at_0.5": macro_f1(yte, p_te, 0.5),
            "trials": trials,
        }
    out["test_macro_f1"] = {t: out["tasks"][t]["test_macro_f1"] for t in GO_TASKS}
    # Fit time of the selected models (one per task) and of the whole grid search.
    out["fit_s"] = sum(out["tasks"][t]["fit_s"] for t in GO_TASKS)
    out["grid_search_s"] = time.perf_counter() - total
    return out


def tune_thresholds_(Y_ind, proba):
    from skmtl.metrics import tune_thresholds

    return tune_thresholds(Y_ind, proba, grid=THRESHOLD_GRID)


def go_skmtl_fit(kind, tasks, X_tr, X_dev, X_te, Y_tr, Y_dev, Y_te, epochs, seed, quick):
    """Fit one skmtl model on ``tasks``; thresholds tuned on dev; test macro-F1 per task."""
    from skmtl.metrics import tune_thresholds

    model = make_skmtl(kind, "goemotions", epochs, seed, quick, regression=False)
    gc.collect()
    tic = time.perf_counter()
    model.fit(X_tr, Y_tr[list(tasks)])
    fit_s = time.perf_counter() - tic
    tic = time.perf_counter()
    p_dev = model.predict_proba(X_dev)
    p_te = model.predict_proba(X_te)
    predict_s = time.perf_counter() - tic
    thresholds, res = {}, {}
    for t, pd_, pt in zip(model.tasks_, p_dev, p_te, strict=True):
        classes = [str(c) for c in model.tasks_[t].classes]
        thr = tune_thresholds(Y_dev[t], pd_, labels=classes, grid=THRESHOLD_GRID)
        thresholds[t] = thr
        ydev, yte = indicator(Y_dev[t], classes), indicator(Y_te[t], classes)
        res[t] = {
            "dev_macro_f1": macro_f1(ydev, pd_, thr),
            "test_macro_f1": macro_f1(yte, pt, thr),
            "test_macro_f1_at_0.5": macro_f1(yte, pt, 0.5),
        }
    model.set_params(threshold=thresholds)
    # The estimator's own predict() with the tuned thresholds must agree with ours.
    pred = model.predict(X_te)
    for t, pt in zip(model.tasks_, p_te, strict=True):
        classes = [str(c) for c in model.tasks_[t].classes]
        ours = pt >= thresholds[t]
        if not np.array_equal(indicator(pred[t], classes), ours):
            raise RuntimeError(f"{kind}: predict() with tuned thresholds disagrees for {t}")
    return {
        "fit_s": fit_s,
        "predict_dev_test_s": predict_s,
        "epochs": int(model.n_iter_),
        "final_train_loss": float(model.history_[-1]["train_loss"]),
        "tasks": res,
    }


def run_goemotions(args, result, save):
    from skmtl.datasets import load_goemotions

    root = Path(args.data_root) / "goemotions"
    splits = {s: load_goemotions(root, split=s) for s in ("train", "dev", "test")}
    labels = {t: sorted(getattr(splits["train"], f"{t}_names")) for t in GO_TASKS}
    n = (1500, 500, 500) if args.quick else (None, None, None)
    (text_tr, Y_tr), (text_dev, Y_dev), (text_te, Y_te) = (
        subset(splits[s].text, splits[s].targets, k, args.seed)
        for s, k in zip(("train", "dev", "test"), n, strict=True)
    )
    epochs = parse_epochs(args.epochs, "goemotions")
    if args.quick:
        epochs = dict.fromkeys(epochs, 1)
    X_tr, X_dev, X_te, feat = featurize(text_tr, text_dev, text_te, args.max_char_features)
    log(f"goemotions: {len(text_tr)}/{len(text_dev)}/{len(text_te)} texts, tfidf {feat}")
    result["settings"] = {
        "quick": args.quick,
        "n_train": len(text_tr),
        "n_dev": len(text_dev),
        "n_test": len(text_te),
        "label_counts": {t: len(labels[t]) for t in GO_TASKS},
        "tfidf": feat,
        "epochs": epochs,
        "encoder_params": {**ENCODER_PARAMS, "max_length": MAX_LENGTH["goemotions"]},
        "train_encoder": TRAIN["encoder"],
        "train_mlp": {k: list(v) if isinstance(v, tuple) else v for k, v in TRAIN["mlp"].items()},
        "linear_grid": [
            {"C": c, "class_weight": cw} for c, cw in (QUICK_LR_GRID if args.quick else LR_GRID)
        ],
        "threshold_grid": THRESHOLD_GRID.tolist(),
        "seed": args.seed,
        "torch_threads": torch.get_num_threads(),
    }
    res = result.setdefault("results", {})
    if "linear" in args.models and "linear" not in res:
        log("goemotions: linear baseline")
        res["linear"] = go_linear(
            X_tr,
            X_dev,
            X_te,
            Y_tr,
            Y_dev,
            Y_te,
            labels,
            QUICK_LR_GRID if args.quick else LR_GRID,
            args.linear_jobs,
        )
        log(
            f"  linear test {res['linear']['test_macro_f1']} "
            f"grid {res['linear']['grid_search_s']:.0f}s"
        )
        save()
    for kind in [m for m in args.models if m != "linear"]:
        if "mt_over_st_fit_time" in res.get(kind, {}):
            log(f"  {kind}: kept from the previous run (--resume)")
            continue
        Xs = (X_tr, X_dev, X_te) if kind == "mlp" else (text_tr, text_dev, text_te)
        entry = res[kind] = {"epochs": epochs[kind], "loadavg_start": list(os.getloadavg())}
        for mode, task_sets in (("mt", [GO_TASKS]), ("st", [(t,) for t in GO_TASKS])):
            fits = []
            for ts in task_sets:
                r = go_skmtl_fit(
                    kind, ts, *Xs, Y_tr, Y_dev, Y_te, epochs[kind], args.seed, args.quick
                )
                fits.append(r)
                log(
                    f"  {kind} {mode} {','.join(ts)}: fit {r['fit_s']:.1f}s "
                    + " ".join(f"{t} {v['test_macro_f1']:.4f}" for t, v in r["tasks"].items())
                )
            entry[mode] = {
                "fit_s": sum(f["fit_s"] for f in fits),
                "fit_s_each": [f["fit_s"] for f in fits],
                "test_macro_f1": {
                    t: v["test_macro_f1"] for f in fits for t, v in f["tasks"].items()
                },
                "dev_macro_f1": {t: v["dev_macro_f1"] for f in fits for t, v in f["tasks"].items()},
                "fits": fits,
            }
            save()
        entry["mt_over_st_fit_time"] = entry["mt"]["fit_s"] / entry["st"]["fit_s"]
        entry["loadavg_end"] = list(os.getloadavg())
        save()
    go_targets(result)


def go_targets(result):
    res = result["results"]
    skm = [k for k in res if k != "linear" and "mt" in res[k] and "st" in res[k]]
    if "linear" not in res or not skm:
        return
    lin = res["linear"]["test_macro_f1"]
    # "Best skmtl multi-task" = the configuration with the best mean DEV macro-F1.
    best = max(skm, key=lambda k: np.mean(list(res[k]["mt"]["dev_macro_f1"].values())))
    mt = res[best]["mt"]["test_macro_f1"]
    tg = {
        "best_mt_by_dev": best,
        "f1_margin": {t: mt[t] - lin[t] for t in GO_TASKS},
        "f1_beats_linear_by_0.02": all(mt[t] - lin[t] >= F1_MARGIN for t in GO_TASKS),
        "emotion_f1": mt["emotion"],
        "emotion_f1_margin": mt["emotion"] - EMOTION_MIN,
        "emotion_at_least_0.50": mt["emotion"] >= EMOTION_MIN,
        "best_fit_s": res[best]["mt"]["fit_s"],
        "best_fit_under_10min": res[best]["mt"]["fit_s"] < FIT_LIMIT_S,
        "mt_over_st": {k: res[k]["mt_over_st_fit_time"] for k in skm},
        "mt_over_st_met": {k: res[k]["mt_over_st_fit_time"] <= MT_RATIO_MAX for k in skm},
    }
    # Best test macro-F1 per task over the multi-task models (informational).
    tg["best_mt_test_per_task"] = {
        t: max((res[k]["mt"]["test_macro_f1"][t], k) for k in skm) for t in GO_TASKS
    }
    result["targets"] = tg


# --------------------------------------------------------------------------- EmoBank


def pearson(y, p) -> float:
    return float(pearsonr(np.asarray(y, dtype=float), np.asarray(p, dtype=float))[0])


def eb_linear(X_tr, X_dev, X_te, Y_tr, Y_dev, Y_te):
    out = {"alphas": list(RIDGE_ALPHAS), "tasks": {}}
    total = time.perf_counter()
    for t in EB_TASKS:
        trials, best = [], None
        for a in RIDGE_ALPHAS:
            tic = time.perf_counter()
            reg = Ridge(alpha=a).fit(X_tr, Y_tr[t].to_numpy())
            fit_s = time.perf_counter() - tic
            r = pearson(Y_dev[t], reg.predict(X_dev))
            trials.append({"alpha": a, "fit_s": fit_s, "dev_r": r})
            if best is None or r > best[0]:
                best = (r, a, reg, fit_s)
        r, a, reg, fit_s = best
        out["tasks"][t] = {
            "alpha": a,
            "fit_s": fit_s,
            "dev_r": r,
            "test_r": pearson(Y_te[t], reg.predict(X_te)),
            "trials": trials,
        }
        log(f"  ridge {t}: alpha {a} dev r {r:.4f} test r {out['tasks'][t]['test_r']:.4f}")
    out["test_r"] = {t: out["tasks"][t]["test_r"] for t in EB_TASKS}
    out["fit_s"] = sum(out["tasks"][t]["fit_s"] for t in EB_TASKS)
    out["grid_search_s"] = time.perf_counter() - total
    return out


def eb_skmtl_fit(kind, tasks, X_tr, X_dev, X_te, Y_tr, Y_dev, Y_te, epochs, seed, quick):
    model = make_skmtl(kind, "emobank", epochs, seed, quick, regression=True)
    gc.collect()
    tic = time.perf_counter()
    model.fit(X_tr, Y_tr[list(tasks)])
    fit_s = time.perf_counter() - tic
    p_dev, p_te = model.predict(X_dev), model.predict(X_te)
    res = {
        t: {"dev_r": pearson(Y_dev[t], p_dev[t]), "test_r": pearson(Y_te[t], p_te[t])}
        for t in tasks
    }
    return {
        "fit_s": fit_s,
        "epochs": int(model.n_iter_),
        "final_train_loss": float(model.history_[-1]["train_loss"]),
        "tasks": res,
    }


def run_emobank(args, result, save):
    from skmtl.datasets import load_emobank

    root = Path(args.data_root) / "emobank"
    splits = {s: load_emobank(root, split=s) for s in ("train", "dev", "test")}
    n = (1000, 300, 300) if args.quick else (None, None, None)
    (text_tr, Y_tr), (text_dev, Y_dev), (text_te, Y_te) = (
        subset(splits[s].text, splits[s].targets, k, args.seed)
        for s, k in zip(("train", "dev", "test"), n, strict=True)
    )
    epochs = parse_epochs(args.epochs, "emobank")
    if args.quick:
        epochs = dict.fromkeys(epochs, 1)
    X_tr, X_dev, X_te, feat = featurize(text_tr, text_dev, text_te, args.max_char_features)
    log(f"emobank: {len(text_tr)}/{len(text_dev)}/{len(text_te)} texts, tfidf {feat}")
    result["settings"] = {
        "quick": args.quick,
        "n_train": len(text_tr),
        "n_dev": len(text_dev),
        "n_test": len(text_te),
        "tfidf": feat,
        "epochs": epochs,
        "encoder_params": {**ENCODER_PARAMS, "max_length": MAX_LENGTH["emobank"]},
        "train_encoder": TRAIN["encoder"],
        "train_mlp": {k: list(v) if isinstance(v, tuple) else v for k, v in TRAIN["mlp"].items()},
        "ridge_alphas": list(RIDGE_ALPHAS),
        "seed": args.seed,
        "torch_threads": torch.get_num_threads(),
    }
    res = result.setdefault("results", {})
    if "linear" in args.models and "linear" not in res:
        log("emobank: TF-IDF + Ridge")
        res["linear"] = eb_linear(X_tr, X_dev, X_te, Y_tr, Y_dev, Y_te)
        save()
    for kind in [m for m in args.models if m != "linear"]:
        if "mt_over_st_fit_time" in res.get(kind, {}):
            log(f"  {kind}: kept from the previous run (--resume)")
            continue
        Xs = (X_tr, X_dev, X_te) if kind == "mlp" else (text_tr, text_dev, text_te)
        entry = res[kind] = {"epochs": epochs[kind], "loadavg_start": list(os.getloadavg())}
        for mode, task_sets in (("mt", [EB_TASKS]), ("st", [(t,) for t in EB_TASKS])):
            fits = []
            for ts in task_sets:
                r = eb_skmtl_fit(
                    kind, ts, *Xs, Y_tr, Y_dev, Y_te, epochs[kind], args.seed, args.quick
                )
                fits.append(r)
                log(
                    f"  {kind} {mode} {','.join(ts)}: fit {r['fit_s']:.1f}s "
                    + " ".join(f"{t} {v['test_r']:.4f}" for t, v in r["tasks"].items())
                )
            entry[mode] = {
                "fit_s": sum(f["fit_s"] for f in fits),
                "fit_s_each": [f["fit_s"] for f in fits],
                "test_r": {t: v["test_r"] for f in fits for t, v in f["tasks"].items()},
                "dev_r": {t: v["dev_r"] for f in fits for t, v in f["tasks"].items()},
                "fits": fits,
            }
            save()
        entry["mt_over_st_fit_time"] = entry["mt"]["fit_s"] / entry["st"]["fit_s"]
        entry["loadavg_end"] = list(os.getloadavg())
        save()
    eb_targets(result)


def eb_targets(result):
    res = result["results"]
    skm = [k for k in res if k != "linear" and "mt" in res[k] and "st" in res[k]]
    if "linear" not in res or not skm:
        return
    lin = res["linear"]["test_r"]
    best = max(skm, key=lambda k: np.mean(list(res[k]["mt"]["dev_r"].values())))
    mt = res[best]["mt"]["test_r"]
    result["targets"] = {
        "best_mt_by_dev": best,
        "r_margin": {t: mt[t] - lin[t] for t in EB_TASKS},
        "r_beats_ridge_by_0.05": all(mt[t] - lin[t] >= R_MARGIN for t in EB_TASKS),
        "best_fit_s": res[best]["mt"]["fit_s"],
        "best_fit_under_10min": res[best]["mt"]["fit_s"] < FIT_LIMIT_S,
        "mt_over_st": {k: res[k]["mt_over_st_fit_time"] for k in skm},
        "mt_over_st_met": {k: res[k]["mt_over_st_fit_time"] <= MT_RATIO_MAX for k in skm},
        "best_mt_test_per_task": {
            t: max((res[k]["mt"]["test_r"][t], k) for k in skm) for t in EB_TASKS
        },
    }


# --------------------------------------------------------------------------- reporting


def yn(x) -> str:
    return "met" if x else "MISSED"


def markdown(result: dict) -> str:
    ds = result["dataset"]
    go = ds == "goemotions"
    s, res, m = result["settings"], result["results"], result["machine"]
    tasks = GO_TASKS if go else EB_TASKS
    key = "test_macro_f1" if go else "test_r"
    metric = "macro-F1 (thresholds tuned on dev)" if go else "Pearson r"
    title = "GoEmotions (3 multilabel tasks)" if go else "EmoBank (V, A, D regression)"
    la0, la1 = result["loadavg_start"], result.get("loadavg_end", [float("nan")] * 3)
    lines = [
        f"# Text benchmark: {title}",
        "",
        f"Command: `{result['command']}`",
        "",
        *(
            f"Earlier run kept by --resume: `{r['command']}` ({r['total_wall_s']:.0f} s)."
            for r in result.get("previous_runs", [])
        ),
        "",
        f"Machine: {m['cpu_count']} CPUs, torch {m['torch']} ({s['torch_threads']} thread(s)), "
        f"sklearn {m['sklearn']}, spaCy {m['spacy']}, skmtl {m['skmtl']}, Python {m['python']}. "
        f"Load average (1/5/15 min) at start {la0[0]:.1f}/{la0[1]:.1f}/{la0[2]:.1f}, at end "
        f"{la1[0]:.1f}/{la1[1]:.1f}/{la1[2]:.1f} (shared machine; other processes compete).",
        "",
        f"Data: {s['n_train']} train / {s['n_dev']} dev / {s['n_test']} test"
        f"{' (--quick subset, 1 epoch)' if s['quick'] else ''}. TF-IDF union: "
        f"{s['tfidf']['n_features']} features ({s['tfidf']['n_word_features']} word 1-2 grams "
        f"min_df=2 + {s['tfidf']['n_char_features']} char_wb 2-5 grams min_df=3), "
        f"{s['tfidf']['nnz_per_row_train']:.0f} non-zeros per row, fitted on train in "
        f"{s['tfidf']['fit_transform_train_s']:.1f} s (not in the fit times below).",
        "Encoders: TextEncoder("
        + ", ".join(f"{k}={v!r}" for k, v in s["encoder_params"].items())
        + "), "
        f"hidden_layer_sizes=(), {s['train_encoder']}. TF-IDF MLP: {s['train_mlp']}. "
        "Epochs (fixed, no early stopping): "
        + ", ".join(f"{k} {e['epochs']}" for k, e in res.items() if k != "linear")
        + f". Seed {s['seed']}.",
        "",
        f"## Test {metric}",
        "",
        "| model | mode | " + " | ".join(tasks) + " | mean | fit s |",
        "|---|---|" + "---:|" * (len(tasks) + 2),
    ]
    if "linear" in res:
        lin = res["linear"]
        name = "TF-IDF + OvR LogisticRegression (liblinear)" if go else "TF-IDF + Ridge"
        lines.append(
            f"| {name} | per task, tuned on dev | "
            + " | ".join(f"{lin[key][t]:.4f}" for t in tasks)
            + f" | {np.mean([lin[key][t] for t in tasks]):.4f} | {lin['fit_s']:.1f} |"
        )
    for k, e in res.items():
        if k == "linear":
            continue
        label = "TF-IDF MLP (skmtl)" if k == "mlp" else f"TextEncoder {k} (skmtl)"
        for mode in ("mt", "st"):
            if mode not in e:
                continue
            v = e[mode][key]
            lines.append(
                f"| {label} | {'multi-task' if mode == 'mt' else 'single-task x3'} | "
                + " | ".join(f"{v[t]:.4f}" for t in tasks)
                + f" | {np.mean([v[t] for t in tasks]):.4f} | {e[mode]['fit_s']:.1f} |"
            )
    lines += [
        "",
        "Fit s: one multi-task fit; the sum of the three single-task fits; for the "
        "linear baseline the sum of the selected per-task fits (grid search "
        f"{res['linear']['grid_search_s']:.0f} s in all)."
        if "linear" in res
        else "",
    ]
    if "linear" in res:
        lines += ["", "Linear baseline, selected on dev:", ""]
        for t in tasks:
            x = res["linear"]["tasks"][t]
            sel = f"C={x['C']}, class_weight={x['class_weight']}" if go else f"alpha={x['alpha']}"
            dv = x["dev_macro_f1"] if go else x["dev_r"]
            lines.append(f"- {t}: {sel} (dev {dv:.4f})")
    ratios = [
        (k, e["mt_over_st_fit_time"], e["mt"]["fit_s"], e["st"]["fit_s"])
        for k, e in res.items()
        if k != "linear" and "mt_over_st_fit_time" in e
    ]
    if ratios:
        lines += [
            "",
            "## Multi-task vs single-task fit time",
            "",
            "| model | multi-task fit s | sum of single-task fits s | ratio | <= 0.6 |",
            "|---|---:|---:|---:|---|",
        ]
        for k, r, a, b in ratios:
            lines.append(f"| {k} | {a:.1f} | {b:.1f} | {r:.3f} | {yn(r <= MT_RATIO_MAX)} |")
    tg = result.get("targets")
    if tg:
        b = tg["best_mt_by_dev"]
        lines += [
            "",
            "## Targets",
            "",
            f"Best skmtl multi-task model, chosen by mean dev score: **{b}**.",
            "",
            "| target | value | margin | status |",
            "|---|---:|---:|---|",
        ]
        if go:
            for t in tasks:
                mg = tg["f1_margin"][t]
                lines.append(
                    f"| {t}: best MT >= linear + {F1_MARGIN} | {res[b]['mt'][key][t]:.4f} vs "
                    f"{res['linear'][key][t]:.4f} | {mg - F1_MARGIN:+.4f} | {yn(mg >= F1_MARGIN)} |"
                )
            lines.append(
                f"| emotion macro-F1 >= {EMOTION_MIN} | {tg['emotion_f1']:.4f} | "
                f"{tg['emotion_f1_margin']:+.4f} | {yn(tg['emotion_at_least_0.50'])} |"
            )
        else:
            for t in tasks:
                mg = tg["r_margin"][t]
                lines.append(
                    f"| {t}: best MT r >= Ridge + {R_MARGIN} | {res[b]['mt'][key][t]:.4f} vs "
                    f"{res['linear'][key][t]:.4f} | {mg - R_MARGIN:+.4f} | {yn(mg >= R_MARGIN)} |"
                )
        lines.append(
            f"| best model fit < 600 s | {tg['best_fit_s']:.1f} s | "
            f"{FIT_LIMIT_S - tg['best_fit_s']:+.1f} s | {yn(tg['best_fit_under_10min'])} |"
        )
        for k, r in tg["mt_over_st"].items():
            lines.append(
                f"| {k}: MT fit <= 0.6 x sum of ST fits | {r:.3f} | {MT_RATIO_MAX - r:+.3f} | "
                f"{yn(r <= MT_RATIO_MAX)} |"
            )
        per = tg["best_mt_test_per_task"]
        lines += [
            "",
            "Best multi-task test score per task over all models (informational, "
            "not a selection): "
            + ", ".join(f"{t} {v[0]:.4f} ({v[1]})" for t, v in per.items())
            + ".",
        ]
    lines += ["", "Notes: " + " ".join(result["notes"]), ""]
    return "\n".join(lines)


NOTES = [
    "Fit time brackets fit() only, single process, torch threads as recorded; TF-IDF "
    "fitting is timed apart. skmtl TextEncoder fit times include spaCy tokenization.",
    "Multilabel thresholds: per label, tune_thresholds on the dev probabilities (grid "
    "0.01-0.04 and 0.05-0.95 step 0.05), for the linear baseline and every skmtl model alike; "
    "model.set_params(threshold=...) is then checked against predict() on test.",
    "macro-F1: sklearn f1_score(average='macro', zero_division=0) over all label columns "
    "of a task. Pearson r: scipy.stats.pearsonr on the original scale.",
    "Model selection (grid, best model) uses dev only; test is only scored.",
    "Wall time on a shared 2-core machine is noisy; see the load averages.",
]


def warm_up() -> None:
    """One tiny fit, so that one-off imports (AdamW imports torch._dynamo, ~2 s) are not
    charged to the first timed fit."""
    from skmtl import MultiTaskClassifier

    rng = np.random.RandomState(0)
    X = rng.rand(64, 5).astype(np.float32)
    MultiTaskClassifier(hidden_layer_sizes=(4,), max_epochs=1).fit(X, rng.randint(0, 2, 64))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data_root", help="directory holding goemotions/ and emobank/")
    p.add_argument("--dataset", choices=("goemotions", "emobank", "both"), default="both")
    p.add_argument("--encoders", default=",".join(ENCODERS))
    p.add_argument(
        "--models",
        default="linear,mlp,encoders",
        help="comma list among linear, mlp, encoders (= the --encoders list)",
    )
    p.add_argument(
        "--epochs",
        default=None,
        help="N for every skmtl model, or e.g. cnn=4,transformer=2 (defaults: "
        + "; ".join(f"{d}: {e}" for d, e in DEFAULT_EPOCHS.items())
        + ")",
    )
    p.add_argument("--max-char-features", type=int, default=100_000)
    p.add_argument("--linear-jobs", type=int, default=1, help="n_jobs of OneVsRestClassifier")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: on this loaded 2-core machine 1 thread was ~2.5x "
        "faster than 2 for the text encoders)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="small subsets, 1 epoch (smoke run)")
    p.add_argument("--out-dir", default="benchmarks/results")
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep the finished models of an existing result JSON (same dataset and split) "
        "and run only the missing ones",
    )
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    encoders = [e for e in args.encoders.split(",") if e]
    bad = set(encoders) - set(ENCODERS)
    if bad:
        p.error(f"unknown encoders {sorted(bad)}")
    models = []
    for m in args.models.split(","):
        models += encoders if m == "encoders" else [m]
    if set(models) - {"linear", "mlp", *ENCODERS}:
        p.error(f"unknown models in {args.models!r}")
    args.models = models
    warnings.filterwarnings("ignore", category=UserWarning)

    warm_up()
    datasets = ("goemotions", "emobank") if args.dataset == "both" else (args.dataset,)
    for ds in datasets:
        suffix = "_quick" if args.quick else ""
        out = Path(args.out_dir) / f"text_{ds}{suffix}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        result = {
            "benchmark": f"text_{ds}",
            "dataset": ds,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "machine": machine_info("pandas", "spacy"),
            "loadavg_start": list(os.getloadavg()),
            "notes": NOTES,
            "complete": False,
        }

        def save(result=result, out=out, t0=t0):
            result["loadavg_end"] = list(os.getloadavg())
            result["total_wall_s"] = time.perf_counter() - t0
            out.write_text(json.dumps(result, indent=2, default=str) + "\n")

        if args.resume and out.exists():
            old = json.loads(out.read_text())
            result["results"] = old.get("results", {})
            result["loadavg_start"] = old["loadavg_start"]
            result["previous_runs"] = [
                *old.get("previous_runs", []),
                {
                    k: old.get(k)
                    for k in ("command", "loadavg_start", "loadavg_end", "total_wall_s")
                },
            ]
            log(f"{ds}: resuming {out}, kept {sorted(result['results'])}")
        (run_goemotions if ds == "goemotions" else run_emobank)(args, result, save)
        result["complete"] = True
        save()
        out.with_suffix(".md").write_text(markdown(result))
        log(f"{ds}: wrote {out} and {out.with_suffix('.md')} ({result['total_wall_s']:.0f}s)")
        if "targets" in result:
            log(f"{ds} targets: {json.dumps(result['targets'], default=str)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
