"""Auxiliary-task selection for a low-resource target on GoEmotions.

The target is GoEmotions' ``emotion`` (28 labels, multilabel) with 5 % of
its training labels kept (fixed random rows, ``RandomState(0)``); the pool of
candidate auxiliary tasks, labelled on every row of their corpus:

* ``ekman`` (7 labels) and ``sentiment`` (4): GoEmotions' coarser label sets
  of the same comments (related tasks);
* ``random``: 28 random labels per GoEmotions row, each present with
  probability 0.5 (``RandomState(1)``; at least one): a multilabel task of pure
  noise with the target's number of label columns, which pulls the shared layer
  away from the target (measured: adding it to ekman + sentiment lowers the
  target's F1 by about 0.01, several times the seed noise). A random label
  among 1,000 classes, or the sentiment labels shuffled, did not hurt measurably;
* ``valence``: EmoBank's valence (continuous) on EmoBank's own sentences,
  appended as rows where every GoEmotions task is missing (another corpus,
  transformed by the same TF-IDF vectorizer); the GoEmotions rows have no
  valence.

Features: TF-IDF word 1-2 grams (20k, fit on the GoEmotions train split,
``_common.GoEmotionsTfidf``). Model: :class:`skmtl.MultiTaskEstimator` (the
pool mixes multilabel and continuous tasks), one shared 256 ReLU layer, a
linear head per task, AdamW lr 3e-3, batch 512, 5 epochs, as in
``bench_weighting.py``.

Rows, each fitted on the same rows for 3 seeds (the estimator's
``random_state`` and the selector's):

* ``target alone``: ``emotion`` on the GoEmotions rows;
* ``target + related (reference)``: ``emotion`` + ``ekman`` + ``sentiment``;
* ``target + all candidates``: every task of the pool;
* ``selector (affinity)`` and ``selector (cosine)``:
  :class:`skmtl.diagnostics.AuxiliaryTaskSelector` over the whole pool
  (``min_score=0``, ``n_steps=50``; the lookahead step is the
  ``learning_rate``).

Reported: the target's test macro-F1 (over its 28 label columns, threshold
0.5, zero_division=0; mean ± std over seeds), fit time, the ranking's
affinity and cosine of every candidate and which tasks each selector kept.

Usage::

    .venv/bin/python benchmarks/bench_task_selection.py ../shared/data
    .venv/bin/python benchmarks/bench_task_selection.py ../shared/data --quick
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from _common import GoEmotionsTfidf, _random_subset, machine_info

from skmtl.diagnostics import AuxiliaryTaskSelector

TARGET = "emotion"
POOL = ("ekman", "sentiment", "random", "valence")
ROWS = {
    "target alone": [TARGET],
    "target + related (reference)": [TARGET, "ekman", "sentiment"],
    "target + all candidates": [TARGET, *POOL],
}
METHODS = ("affinity", "cosine")


class SelectionData:
    """The GoEmotions tasks (target with 5 % of its labels) plus the candidate pool."""

    def __init__(self, root: str, args) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        from skmtl.datasets import load_emobank, load_goemotions

        self.go = GoEmotionsTfidf(
            root,
            train_rows=args.train_rows,
            max_features=args.max_features,
            eval_rows=args.eval_rows,
        )
        go = self.go
        n_go = go.n_rows["train"]
        # The same vectorizer as GoEmotionsTfidf's (which keeps none): refit on the same texts.
        train = load_goemotions(Path(root) / "goemotions", split="train")
        keep = _random_subset(len(train.text), args.train_rows, 0)
        texts = train.text if keep is None else [train.text[i] for i in keep]
        vec = TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            min_df=2,
            max_features=args.max_features,
            dtype=np.float32,
        ).fit(texts)
        check = vec.transform(texts[:200]).astype(np.float32)
        if abs(check - go.X["train"][:200]).max() > 1e-6:
            raise RuntimeError("the refitted vectorizer differs from GoEmotionsTfidf's")
        bank = load_emobank(Path(root) / "emobank", split="train")
        rows = _random_subset(len(bank.text), args.emobank_rows, 0)
        bank_text = bank.text if rows is None else [bank.text[i] for i in rows]
        valence = bank.targets["V"].to_numpy(dtype=float)
        valence = valence if rows is None else valence[rows]
        n_bank = len(bank_text)
        self.X = sp.vstack([go.X["train"], vec.transform(bank_text).astype(np.float32)]).tocsr()

        Y_go = go.Y["train"]
        target = Y_go[TARGET].astype(object).copy()
        labelled = np.zeros(n_go, dtype=bool)
        labelled[
            np.random.RandomState(0).choice(n_go, int(round(args.target_share * n_go)), False)
        ] = True
        target[~labelled] = None
        draws = np.random.RandomState(1).rand(n_go, 28) < 0.5
        noise = [tuple(f"r{j}" for j in np.flatnonzero(row)) or ("r0",) for row in draws]
        missing = [None] * n_bank
        self.Y = pd.DataFrame(
            {
                TARGET: list(target) + missing,
                "ekman": list(Y_go["ekman"]) + missing,
                "sentiment": list(Y_go["sentiment"]) + missing,
                "random": noise + missing,
                "valence": np.r_[np.full(n_go, np.nan), valence],
            }
        )
        self.go_rows = np.arange(n_go)
        self.n_target_labels = int(labelled.sum())
        self.epochs = args.epochs
        self.describe = (
            f"GoEmotions: {n_go} train comments (target `emotion` labelled on "
            f"{self.n_target_labels}, {100 * args.target_share:g} %) + {n_bank} EmoBank train "
            f"sentences (task `valence` only); test: {go.n_rows['test']} GoEmotions comments. "
            f"TF-IDF word 1-2 grams, {go.n_features} features (fit on the GoEmotions train "
            "comments). Model: MultiTaskEstimator, one shared 256 ReLU layer, a linear head per "
            f"task, AdamW lr 3e-3, batch 512, {args.epochs} epochs. Metric: the target's "
            "macro-F1 over its 28 label columns at threshold 0.5, with at least its most "
            "probable label per comment (`min_labels=1`; zero_division=0)."
        )

    def estimator(self, seed: int):
        from skmtl import MultiTaskEstimator

        return MultiTaskEstimator(
            hidden_layer_sizes=(256,),
            learning_rate=3e-3,
            batch_size=512,
            max_epochs=self.epochs,
            random_state=seed,
            min_labels=1,
        )

    def fit_data(self, tasks):
        if "valence" in tasks:
            return self.X, self.Y[list(tasks)]
        return self.X[self.go_rows], self.Y.iloc[self.go_rows][list(tasks)]

    def target_f1(self, model) -> float:
        pred = model.predict(self.go.X["test"])
        return self.go.score_predictions(pred, self.go.Y["test"], tasks=[TARGET])[TARGET]


def run_fixed(data, tasks, seed) -> dict:
    X, Y = data.fit_data(tasks)
    model = data.estimator(seed)
    tic = time.perf_counter()
    model.fit(X, Y)
    return {"f1": data.target_f1(model), "fit_s": time.perf_counter() - tic, "tasks": tasks}


def run_selector(data, method, seed, n_steps) -> dict:
    selector = AuxiliaryTaskSelector(
        data.estimator(seed), TARGET, method=method, n_steps=n_steps, random_state=seed
    )
    tic = time.perf_counter()
    selector.fit(data.X, data.Y)
    fit_s = time.perf_counter() - tic
    ranking = selector.ranking_
    return {
        "f1": data.target_f1(selector.estimator_),
        "fit_s": fit_s,
        "tasks": [TARGET, *selector.selected_tasks_],
        "selected": list(selector.selected_tasks_),
        "ranking": {
            t: {
                "rank": int(r["rank"]),
                "score": float(r["score"]),
                "affinity": float(r["affinity"]),
                "cosine": float(r["cosine"]),
                "n_batches": int(r["n_batches"]),
            }
            for t, r in ranking.iterrows()
        },
    }


def summarise(runs: dict, seeds) -> dict:
    out = {}
    for name, by_seed in runs.items():
        f1 = [by_seed[s]["f1"] for s in seeds]
        row = {
            "f1_mean": float(np.mean(f1)),
            "f1_std": float(np.std(f1)),
            "fit_s_mean": float(np.mean([by_seed[s]["fit_s"] for s in seeds])),
            "tasks_by_seed": {s: by_seed[s]["tasks"] for s in seeds},
        }
        if "ranking" in by_seed[seeds[0]]:
            rk = {t: [by_seed[s]["ranking"][t] for s in seeds] for t in POOL}
            row["ranking"] = {
                t: {
                    "affinity_mean": float(np.mean([v["affinity"] for v in vals])),
                    "affinity_std": float(np.std([v["affinity"] for v in vals])),
                    "cosine_mean": float(np.mean([v["cosine"] for v in vals])),
                    "cosine_std": float(np.std([v["cosine"] for v in vals])),
                    "ranks": [v["rank"] for v in vals],
                    "kept": sum(t in by_seed[s]["selected"] for s in seeds),
                }
                for t, vals in rk.items()
            }
        out[name] = row
    return out


def markdown(result: dict) -> str:
    s, m = result["settings"], result["machine"]
    seeds = s["seeds"]
    pm = " ± std" if len(seeds) > 1 else ""
    lines = [
        "# Auxiliary-task selection for a low-resource target (GoEmotions `emotion`)",
        "",
        s["describe"],
        "",
        "Candidates: `ekman`, `sentiment` (related label sets of the same comments), `random` "
        "(28 random labels per comment, each with probability 0.5: harmful noise), `valence` "
        "(EmoBank valence on another corpus's sentences).",
        "",
        f"Seeds: {', '.join(map(str, seeds))}. Machine: {m['cpu_count']} CPUs, torch "
        f"{m['torch']} ({m['torch_num_threads']} thread(s)), skmtl {m['skmtl']}. Wall time of "
        f"the whole run: {result['wall_s'] / 60:.1f} min. Load average at start / end: "
        f"{result['loadavg_start'][0]:.1f} / {result['loadavg_end'][0]:.1f}."
        + (" **Quick smoke run: not a result.**" if s["quick"] else ""),
        "",
        f"| row | tasks trained (per seed) | emotion test macro-F1{pm} | fit time (s) |",
        "|---|---|---:|---:|",
    ]
    for name, r in result["summary"].items():
        tasks = {", ".join(t[1:] if t[0] == TARGET else t) for t in r["tasks_by_seed"].values()}
        shown = " / ".join(sorted("+ " + t if t else "(target only)" for t in tasks))
        f1 = f"{r['f1_mean']:.4f}" + (f" ± {r['f1_std']:.4f}" if len(seeds) > 1 else "")
        lines.append(f"| {name} | {shown} | {f1} | {r['fit_s_mean']:.1f} |")
    n = len(seeds)
    lines += [
        "",
        f"Ranking of the candidates (mean{pm} over seeds; the affinity and the cosine come from "
        "the same ranking runs, so the two selectors see the same measurements):",
        "",
        "| candidate | affinity | cosine | rank by affinity (per seed) | kept (affinity) | "
        "kept (cosine) |",
        "|---|---:|---:|---|---:|---:|",
    ]
    aff = result["summary"]["selector (affinity)"]["ranking"]
    cos = result["summary"]["selector (cosine)"]["ranking"]
    for t in sorted(aff, key=lambda t: -aff[t]["affinity_mean"]):
        a = aff[t]
        av = f"{a['affinity_mean']:+.2e}" + (f" ± {a['affinity_std']:.1e}" if n > 1 else "")
        cv = f"{a['cosine_mean']:+.4f}" + (f" ± {a['cosine_std']:.4f}" if n > 1 else "")
        lines.append(
            f"| {t} | {av} | {cv} | {', '.join(map(str, a['ranks']))} | {a['kept']}/{n} | "
            f"{cos[t]['kept']}/{n} |"
        )
    lines += [
        "",
        "affinity: Z[candidate -> emotion] = 1 - L(θ - lr ∇L_candidate) / L(θ), the relative "
        "drop of the target's loss on its held-out labels after one SGD step (lr 3e-3) of the "
        "shared layer on the candidate's loss (Fifty et al., 2021); cosine: the cosine of the "
        "two tasks' gradients on the shared layer (Du et al., 2018). Both are measured in two "
        "training runs of the estimator, each holding out half of the target's labels, on "
        "batches that hold held-out target rows. A selector keeps the candidates whose score is "
        "above 0 and fits the target with them; its fit time includes the ranking.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_root", help="folder holding goemotions/ and emobank/")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 3)")
    ap.add_argument("--epochs", type=int, default=None, help="training epochs (default 5)")
    ap.add_argument("--train-rows", type=int, default=None, help="GoEmotions train subset")
    ap.add_argument("--eval-rows", type=int, default=None, help="GoEmotions test subset")
    ap.add_argument("--emobank-rows", type=int, default=None, help="EmoBank train subset")
    ap.add_argument("--target-share", type=float, default=0.05)
    ap.add_argument("--max-features", type=int, default=20000)
    ap.add_argument("--n-steps", type=int, default=50, help="the ranking's measured batches")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--quick", action="store_true", help="smoke run: small subsets, 2 epochs")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.quick:
        args.train_rows = args.train_rows or 3000
        args.eval_rows = args.eval_rows or 1000
        args.emobank_rows = args.emobank_rows or 600
        args.epochs = args.epochs or 2
        args.seeds = args.seeds or 1
        args.n_steps = min(args.n_steps, 10)
    args.epochs = args.epochs or 5
    seeds = list(range(args.seeds or 3))
    torch.set_num_threads(args.threads)
    out = Path(
        args.out or f"benchmarks/results/task_selection{'_quick' if args.quick else ''}.json"
    )

    load_start = os.getloadavg()
    t0 = time.perf_counter()
    data = SelectionData(args.data_root, args)
    print(data.describe, flush=True)
    runs: dict[str, dict] = {name: {} for name in [*ROWS, *(f"selector ({m})" for m in METHODS)]}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Training stopped at max_epochs")
        warnings.filterwarnings("ignore", message="Task '.*': every prediction")
        for seed in seeds:
            for name, tasks in ROWS.items():
                runs[name][seed] = r = run_fixed(data, tasks, seed)
                print(f"seed {seed} {name:30s} F1 {r['f1']:.4f} ({r['fit_s']:.0f} s)", flush=True)
            for method in METHODS:
                name = f"selector ({method})"
                runs[name][seed] = r = run_selector(data, method, seed, args.n_steps)
                scores = {t: round(v[method], 5) for t, v in r["ranking"].items()}
                print(
                    f"seed {seed} {name:30s} F1 {r['f1']:.4f} ({r['fit_s']:.0f} s) "
                    f"kept {r['selected']} scores {scores}",
                    flush=True,
                )
    result = {
        "settings": {
            "describe": data.describe,
            "target": TARGET,
            "candidates": list(POOL),
            "target_share": args.target_share,
            "n_target_labels": data.n_target_labels,
            "seeds": seeds,
            "epochs": args.epochs,
            "n_steps": args.n_steps,
            "train_rows": args.train_rows,
            "eval_rows": args.eval_rows,
            "emobank_rows": args.emobank_rows,
            "quick": args.quick,
        },
        "machine": machine_info(),
        "loadavg_start": list(load_start),
        "loadavg_end": list(os.getloadavg()),
        "wall_s": time.perf_counter() - t0,
        "summary": summarise(runs, seeds),
        "runs": runs,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    print(f"wrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
