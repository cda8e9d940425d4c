"""Sentence-embedding benchmark: frozen all-MiniLM-L6-v2 features + skmtl MLPs.

Every split is embedded once with :class:`skmtl.features.SentenceEmbedder`
(frozen pretrained ``all-MiniLM-L6-v2``, float32, 384 dimensions); the arrays are
kept in memory and used as ``X`` for

* GoEmotions (``emotion``, ``ekman``, ``sentiment``, multilabel): one
  :class:`skmtl.MultiTaskClassifier` on the three tasks (``mt``) and one model per
  task with the same hyperparameters (``st``). Per-label thresholds of every model
  are tuned on dev (``tune_thresholds`` on dev probabilities, then
  ``set_params(threshold=...)``); test macro-F1 per task with ``task_score``.
* EmoBank (``V``, ``A``, ``D``, regression): :class:`skmtl.MultiTaskRegressor`
  multi-task and single-task; test Pearson r per dimension with ``task_score``.

Results are compared with the linear / Ridge baselines of
``text_goemotions.json`` and ``text_emobank.json``.

Usage::

    .venv/bin/python benchmarks/bench_sentence.py ../shared/data
    .venv/bin/python benchmarks/bench_sentence.py ../shared/data --dataset emobank
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _common import machine_info

GO_TASKS = ("emotion", "ekman", "sentiment")
EB_TASKS = ("V", "A", "D")

# Same grid as bench_text.py (tune_thresholds' default plus 0.01-0.04), so the
# comparison with its linear baseline uses identical threshold tuning.
THRESHOLD_GRID = np.round(
    np.concatenate([[0.01, 0.02, 0.03, 0.04], np.linspace(0.05, 0.95, 19)]), 2
)

GO_PARAMS = dict(
    hidden_layer_sizes=(512,),
    dropout=0.2,
    learning_rate=1e-3,
    batch_size=256,
    max_epochs=15,
    random_state=0,
)
EB_PARAMS = dict(
    hidden_layer_sizes=(256,),
    dropout=0.2,
    learning_rate=1e-3,
    batch_size=128,
    max_epochs=30,
    early_stopping=True,
    n_iter_no_change=5,
    random_state=0,
)

# Baselines measured by bench_text.py (test scores).
LINEAR_F1 = {"emotion": 0.4650, "ekman": 0.5948, "sentiment": 0.6649}
RIDGE_R = {"V": 0.5479, "A": 0.3949, "D": 0.2915}

# Targets of the issue.
F1_MARGIN = 0.02
EMOTION_MIN = 0.50
R_MARGIN = 0.05


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {msg}", flush=True)


def load_baselines(out_dir: Path) -> dict:
    """Test scores of the linear / Ridge baselines, from the stored JSON if present."""
    lin, ridge = dict(LINEAR_F1), dict(RIDGE_R)
    try:
        d = json.loads((out_dir / "text_goemotions.json").read_text())
        for t in GO_TASKS:
            lin[t] = round(float(d["results"]["linear"]["tasks"][t]["test_macro_f1"]), 4)
    except (OSError, KeyError, TypeError, ValueError):
        pass
    try:
        d = json.loads((out_dir / "text_emobank.json").read_text())
        for t in EB_TASKS:
            ridge[t] = round(float(d["results"]["linear"]["tasks"][t]["test_r"]), 4)
    except (OSError, KeyError, TypeError, ValueError):
        pass
    return {"goemotions_linear_f1": lin, "emobank_ridge_r": ridge}


def embed_splits(embedder, splits: dict) -> tuple[dict, dict]:
    X, secs = {}, {}
    for name, ds in splits.items():
        texts = list(ds.text)
        gc.collect()
        tic = time.perf_counter()
        X[name] = np.asarray(embedder.fit_transform(texts), dtype=np.float32)
        secs[name] = time.perf_counter() - tic
        log(
            f"embedded {name}: {len(texts)} texts in {secs[name]:.1f}s "
            f"({len(texts) / secs[name]:.0f}/s) shape={X[name].shape}"
        )
    return X, secs


def macro_f1_all_labels(y_true_col, y_pred_col, classes) -> float:
    """macro-F1 over every label column (bench_text.py's definition), as a cross-check."""
    from sklearn.metrics import f1_score

    idx = {c: i for i, c in enumerate(classes)}

    def ind(col):
        m = np.zeros((len(col), len(classes)), dtype=np.int8)
        for r, labs in enumerate(col):
            for lab in labs:
                m[r, idx[str(lab)]] = 1
        return m

    return float(f1_score(ind(y_true_col), ind(y_pred_col), average="macro", zero_division=0))


# --------------------------------------------------------------------------- GoEmotions


def go_fit(tasks, X, Y) -> dict:
    from skmtl import MultiTaskClassifier
    from skmtl.metrics import task_score, tune_thresholds

    model = MultiTaskClassifier(**GO_PARAMS)
    gc.collect()
    tic = time.perf_counter()
    model.fit(X["train"], Y["train"][list(tasks)])
    fit_s = time.perf_counter() - tic
    p_dev = model.predict_proba(X["dev"])
    thresholds = {}
    for t, pd_ in zip(model.tasks_, p_dev, strict=True):
        thresholds[t] = tune_thresholds(
            list(Y["dev"][t]),
            pd_,
            labels=list(model.tasks_[t].classes),
            grid=THRESHOLD_GRID,
        )
    # Scores at the default 0.5 threshold, before tuning.
    pred05_te = model.predict(X["test"])
    model.set_params(threshold=thresholds)
    pred_dev = model.predict(X["dev"])
    pred_te = model.predict(X["test"])
    res = {}
    for t in model.tasks_:
        classes = [str(c) for c in model.tasks_[t].classes]
        yte = list(Y["test"][t])
        res[t] = {
            "test_macro_f1": task_score(yte, list(pred_te[t]), "f1_macro"),
            "dev_macro_f1": task_score(list(Y["dev"][t]), list(pred_dev[t]), "f1_macro"),
            "test_macro_f1_at_0.5": task_score(yte, list(pred05_te[t]), "f1_macro"),
            "test_macro_f1_all_labels": macro_f1_all_labels(yte, list(pred_te[t]), classes),
            "thresholds": {c: float(v) for c, v in zip(classes, thresholds[t], strict=True)},
        }
    return {
        "fit_s": fit_s,
        "epochs": int(model.n_iter_),
        "final_train_loss": float(model.history_[-1]["train_loss"]),
        "tasks": res,
    }


def run_goemotions(args, result, save) -> None:
    from skmtl.datasets import load_goemotions
    from skmtl.features import SentenceEmbedder

    root = os.path.join(args.data_root, "goemotions")
    splits = {s: load_goemotions(root, split=s) for s in ("train", "dev", "test")}
    Y = {s: ds.targets.reset_index(drop=True) for s, ds in splits.items()}
    X, emb_s = embed_splits(SentenceEmbedder(), splits)
    r = result["goemotions"] = {
        "n": {s: len(v) for s, v in Y.items()},
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in GO_PARAMS.items()},
        "embed_s": emb_s,
    }
    save()
    log("GoEmotions: multi-task fit")
    r["mt"] = go_fit(GO_TASKS, X, Y)
    save()
    log(
        f"  mt fit {r['mt']['fit_s']:.1f}s "
        + str({t: round(v["test_macro_f1"], 4) for t, v in r["mt"]["tasks"].items()})
    )
    r["st"] = {}
    for t in GO_TASKS:
        log(f"GoEmotions: single-task fit {t}")
        r["st"][t] = go_fit((t,), X, Y)
        log(
            f"  st {t} fit {r['st'][t]['fit_s']:.1f}s "
            f"f1={r['st'][t]['tasks'][t]['test_macro_f1']:.4f}"
        )
        save()
    st_sum = sum(r["st"][t]["fit_s"] for t in GO_TASKS)
    r["st_fit_sum_s"] = st_sum
    r["mt_over_st_sum"] = r["mt"]["fit_s"] / st_sum
    base = result["baselines"]["goemotions_linear_f1"]
    cmp_, ok = {}, True
    for t in GO_TASKS:
        mt_f1 = r["mt"]["tasks"][t]["test_macro_f1"]
        st_f1 = r["st"][t]["tasks"][t]["test_macro_f1"]
        cmp_[t] = {
            "linear": base[t],
            "mt": mt_f1,
            "st": st_f1,
            "mt_minus_linear": mt_f1 - base[t],
            "st_minus_linear": st_f1 - base[t],
            "mt_minus_st": mt_f1 - st_f1,
        }
    best = {
        m: all(cmp_[t][f"{m}_minus_linear"] >= F1_MARGIN for t in GO_TASKS)
        and cmp_["emotion"][m] >= EMOTION_MIN
        for m in ("mt", "st")
    }
    ok = best["mt"]
    r["comparison"] = cmp_
    r["target"] = {
        "rule": f"beat linear by >= {F1_MARGIN} macro-F1 on every task and emotion >= "
        f"{EMOTION_MIN}",
        "met_by_mt": best["mt"],
        "met_by_st": best["st"],
        "met": ok,
    }
    save()


# --------------------------------------------------------------------------- EmoBank


def eb_fit(tasks, X, Y) -> dict:
    from skmtl import MultiTaskRegressor
    from skmtl.metrics import task_score

    model = MultiTaskRegressor(**EB_PARAMS)
    gc.collect()
    tic = time.perf_counter()
    model.fit(X["train"], Y["train"][list(tasks)])
    fit_s = time.perf_counter() - tic
    pred_dev = model.predict(X["dev"])
    pred_te = model.predict(X["test"])
    res = {}
    for t in tasks:
        res[t] = {
            "test_r": task_score(
                np.asarray(Y["test"][t], dtype=float),
                np.asarray(pred_te[t], dtype=float),
                "pearson",
            ),
            "dev_r": task_score(
                np.asarray(Y["dev"][t], dtype=float),
                np.asarray(pred_dev[t], dtype=float),
                "pearson",
            ),
        }
    return {
        "fit_s": fit_s,
        "epochs": int(model.n_iter_),
        "final_train_loss": float(model.history_[-1]["train_loss"]),
        "tasks": res,
    }


def run_emobank(args, result, save) -> None:
    from skmtl.datasets import load_emobank
    from skmtl.features import SentenceEmbedder

    root = os.path.join(args.data_root, "emobank")
    splits = {s: load_emobank(root, split=s) for s in ("train", "dev", "test")}
    Y = {s: ds.targets.reset_index(drop=True) for s, ds in splits.items()}
    X, emb_s = embed_splits(SentenceEmbedder(), splits)
    r = result["emobank"] = {
        "n": {s: len(v) for s, v in Y.items()},
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in EB_PARAMS.items()},
        "embed_s": emb_s,
    }
    save()
    log("EmoBank: multi-task fit")
    r["mt"] = eb_fit(EB_TASKS, X, Y)
    log(
        f"  mt fit {r['mt']['fit_s']:.1f}s "
        + str({t: round(v["test_r"], 4) for t, v in r["mt"]["tasks"].items()})
    )
    r["st"] = {}
    for t in EB_TASKS:
        r["st"][t] = eb_fit((t,), X, Y)
        log(f"  st {t} fit {r['st'][t]['fit_s']:.1f}s r={r['st'][t]['tasks'][t]['test_r']:.4f}")
    st_sum = sum(r["st"][t]["fit_s"] for t in EB_TASKS)
    r["st_fit_sum_s"] = st_sum
    r["mt_over_st_sum"] = r["mt"]["fit_s"] / st_sum
    base = result["baselines"]["emobank_ridge_r"]
    cmp_ = {}
    for t in EB_TASKS:
        mt_r = r["mt"]["tasks"][t]["test_r"]
        st_r = r["st"][t]["tasks"][t]["test_r"]
        cmp_[t] = {
            "ridge": base[t],
            "mt": mt_r,
            "st": st_r,
            "mt_minus_ridge": mt_r - base[t],
            "st_minus_ridge": st_r - base[t],
            "mt_minus_st": mt_r - st_r,
        }
    best = {m: all(cmp_[t][f"{m}_minus_ridge"] >= R_MARGIN for t in EB_TASKS) for m in ("mt", "st")}
    r["comparison"] = cmp_
    r["target"] = {
        "rule": f"beat Ridge by >= {R_MARGIN} Pearson r on each dimension",
        "met_by_mt": best["mt"],
        "met_by_st": best["st"],
        "met": best["mt"],
    }
    save()


# --------------------------------------------------------------------------- report


def markdown(result: dict) -> str:
    lines = ["# Sentence embeddings (frozen all-MiniLM-L6-v2) + skmtl MLPs", ""]
    lines.append(f"Command: `{result['command']}`  ")
    m = result["machine"]
    lines.append(
        f"Machine: {m['cpu_count']} CPUs, torch {m['torch']} ({m['torch_num_threads']} "
        f"threads), skmtl {m['skmtl']}. Wall times on a shared machine are noisy."
    )
    lines.append("")
    go = result.get("goemotions")
    if go and "comparison" in go:
        lines += [
            "## GoEmotions — test macro-F1 (per-label thresholds tuned on dev)",
            "",
            "| task | linear (TF-IDF LR) | MTL | single-task | MTL − linear "
            "| ST − linear | MTL − ST |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for t, c in go["comparison"].items():
            lines.append(
                f"| {t} | {c['linear']:.4f} | {c['mt']:.4f} | {c['st']:.4f} | "
                f"{c['mt_minus_linear']:+.4f} | {c['st_minus_linear']:+.4f} | "
                f"{c['mt_minus_st']:+.4f} |"
            )
        st = go["st"]
        lines += [
            "",
            f"Fit: MTL {go['mt']['fit_s']:.1f}s ({go['mt']['epochs']} epochs); single-task "
            + ", ".join(f"{t} {st[t]['fit_s']:.1f}s" for t in GO_TASKS)
            + f" (sum {go['st_fit_sum_s']:.1f}s); MTL / sum(ST) = {go['mt_over_st_sum']:.2f}.  ",
            "Embedding: "
            + ", ".join(f"{s} {go['n'][s]} texts {v:.1f}s" for s, v in go["embed_s"].items())
            + ".  ",
            f"Target ({go['target']['rule']}): MTL "
            f"{'**met**' if go['target']['met_by_mt'] else '**not met**'}; single-task "
            f"{'met' if go['target']['met_by_st'] else 'not met'}.",
            "",
        ]
    eb = result.get("emobank")
    if eb and "comparison" in eb:
        lines += [
            "## EmoBank — test Pearson r",
            "",
            "| dim | Ridge (TF-IDF) | MTL | single-task | MTL − Ridge | ST − Ridge | MTL − ST |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for t, c in eb["comparison"].items():
            lines.append(
                f"| {t} | {c['ridge']:.4f} | {c['mt']:.4f} | {c['st']:.4f} | "
                f"{c['mt_minus_ridge']:+.4f} | {c['st_minus_ridge']:+.4f} | "
                f"{c['mt_minus_st']:+.4f} |"
            )
        st = eb["st"]
        lines += [
            "",
            f"Fit: MTL {eb['mt']['fit_s']:.1f}s ({eb['mt']['epochs']} epochs); single-task "
            + ", ".join(f"{t} {st[t]['fit_s']:.1f}s ({st[t]['epochs']} ep)" for t in EB_TASKS)
            + f" (sum {eb['st_fit_sum_s']:.1f}s); MTL / sum(ST) = {eb['mt_over_st_sum']:.2f}.  ",
            "Embedding: "
            + ", ".join(f"{s} {eb['n'][s]} texts {v:.1f}s" for s, v in eb["embed_s"].items())
            + ".  ",
            f"Target ({eb['target']['rule']}): MTL "
            f"{'**met**' if eb['target']['met_by_mt'] else '**not met**'}; single-task "
            f"{'met' if eb['target']['met_by_st'] else 'not met'}.",
            "",
        ]
    lines += ["Notes:", ""] + [f"- {n}" for n in result["notes"]] + [""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_root")
    ap.add_argument("--out-dir", default="benchmarks/results")
    ap.add_argument("--dataset", choices=("all", "goemotions", "emobank"), default="all")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "text_sentence",
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "machine": machine_info(),
        "loadavg_start": list(os.getloadavg()),
        "baselines": load_baselines(out_dir),
        "threshold_grid": THRESHOLD_GRID.tolist(),
        "notes": [
            "X = SentenceEmbedder().fit_transform(texts): frozen all-MiniLM-L6-v2, float32 "
            "(n, 384), each split embedded once; embed_s is that time per split.",
            "Fit time brackets fit() only (time.perf_counter), single process.",
            "Multilabel thresholds: per task and label, skmtl.metrics.tune_thresholds on dev "
            "probabilities (same grid as bench_text.py: 0.01-0.04 and 0.05-0.95 step 0.05), "
            "then model.set_params(threshold=...); test is only scored.",
            "macro-F1 = skmtl.metrics.task_score(..., 'f1_macro'); "
            "test_macro_f1_all_labels in the JSON is sklearn macro-F1 over every label "
            "column (bench_text.py's definition) as a cross-check. Pearson r = "
            "task_score(..., 'pearson').",
            "Baselines are the test scores of the linear rows of text_goemotions.json / "
            "text_emobank.json (TF-IDF word+char, LR / Ridge tuned on dev).",
        ],
    }
    out_json = out_dir / "text_sentence.json"
    out_md = out_dir / "text_sentence.md"

    def save() -> None:
        result["loadavg_end"] = list(os.getloadavg())
        out_json.write_text(json.dumps(result, indent=1, default=float) + "\n")
        out_md.write_text(markdown(result))

    t0 = time.perf_counter()
    if args.dataset in ("all", "emobank"):
        run_emobank(args, result, save)
    if args.dataset in ("all", "goemotions"):
        run_goemotions(args, result, save)
    result["total_s"] = time.perf_counter() - t0
    result["complete"] = True
    save()
    log(f"done in {result['total_s']:.0f}s -> {out_json}, {out_md}")
    print(out_md.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
