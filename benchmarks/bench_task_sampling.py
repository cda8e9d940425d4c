"""Task sampling on corpora of different sizes that share no text.

Three tasks, each from its own corpus (a row carries one task's label, the
other two are missing), subsampled so that their sizes differ 10x and 30x:

* ``sentiment``: GoEmotions' sentiment groups (positive / negative /
  ambiguous / neutral, multilabel), 30,000 Reddit comments of the train split;
  metric: macro-F1 over the 4 label columns at threshold 0.5;
* ``valence``: EmoBank's valence (1-5, continuous), 3,000 sentences of its
  train split; metric: Pearson r;
* ``genre``: English-EWT's genre of a sentence (answers, email, newsgroup,
  reviews, weblog: the prefix of its ``sent_id``), 1,000 sentences of the
  train split; metric: macro-F1.

Each test score is on that corpus's whole test split. Features: TF-IDF word
1-2 grams (20,000, fit on the union of the training texts). Model:
:class:`skmtl.MultiTaskEstimator`, one shared 256 ReLU layer and a linear
head per task, AdamW lr 3e-3, batch 256, 10 epochs. Every schedule draws the
same number of (task, row) pairs per epoch (the default epoch length, the sum
of the pool sizes: 34,000), so every row of the table takes the same number
of optimiser steps.

Rows: the natural order (today's behaviour: every row once per epoch);
proportional with a cap of 5,000 (T5's examples-proportional mixing; with
``epoch_size`` set to the others' 34,000 draws);
temperature T=2 and T=5; uniform (mixed batches, and one task per batch);
annealed (Stickland and Murray); and two weighting strategies (DB-MTL, FAMO)
in the natural order and under T=2, to compare data-side with loss-side
balancing. The reference is one single-task model per task, trained on its
own corpus with the same settings (Δm: :func:`skmtl.diagnostics.relative_gain`).

Usage::

    .venv/bin/python benchmarks/bench_task_sampling.py ../shared/data
    .venv/bin/python benchmarks/bench_task_sampling.py ../shared/data --quick
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _common import machine_info

TASKS = ("sentiment", "valence", "genre")
METRICS = {"sentiment": "macro-F1", "valence": "Pearson r", "genre": "macro-F1"}
SIZES = {"sentiment": 30000, "valence": 3000, "genre": 1000}

ROWS = {
    "natural": (None, "equal"),
    "proportional, cap 5000": ("proportional_cap", "equal"),
    "temperature T=2": ("t2", "equal"),
    "temperature T=5": ("t5", "equal"),
    "uniform": ("uniform", "equal"),
    "uniform, one task per batch": ("uniform_per_task", "equal"),
    "annealed": ("annealed", "equal"),
    "natural + dbmtl": (None, "dbmtl"),
    "temperature T=2 + dbmtl": ("t2", "dbmtl"),
    "natural + famo": (None, "famo"),
    "temperature T=2 + famo": ("t2", "famo"),
}


def make_sampling(name, total):
    from skmtl import sampling as S

    return {
        None: None,
        # epoch_size: the same draws per epoch as every other row (the capped default
        # would be sum_t min(n_t, 5000) = 9,000)
        "proportional_cap": S.ProportionalSampling(
            max_examples_per_task=5000 if total > 10000 else 500, epoch_size=total
        ),
        "t2": S.TemperatureSampling(temperature=2.0),
        "t5": S.TemperatureSampling(temperature=5.0),
        "uniform": S.UniformSampling(),
        "uniform_per_task": S.UniformSampling(batches="per_task"),
        "annealed": S.AnnealedSampling(),
    }[name]


def make_weighting(name):
    from skmtl import weighting as W

    return {"equal": W.EqualWeighting(), "dbmtl": W.DBMTL(), "famo": W.FAMO()}[name]


class Corpora:
    """The three corpora, subsampled, as one TF-IDF matrix with a sparse label frame."""

    def __init__(self, root: str, sizes: dict, eval_rows: int | None, seed: int = 0) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        from skmtl.datasets import load_emobank, load_ewt, load_goemotions

        root = Path(root)
        rng = np.random.RandomState(seed)
        texts, labels = {}, {}
        for split in ("train", "test"):
            ge = load_goemotions(root / "goemotions", split=split)
            eb = load_emobank(root / "emobank", split=split)
            ewt = load_ewt(root, split=split, tasks=("upos",))
            texts[split] = {
                "sentiment": list(ge.text),
                "valence": list(eb.text),
                "genre": [" ".join(t) for t in ewt.tokens],
            }
            labels[split] = {
                "sentiment": list(ge.targets["sentiment"]),
                "valence": list(eb.targets["V"].astype(float)),
                "genre": [i.split("-")[0] for i in ewt.sent_ids],
            }
        self.available = {t: len(texts["train"][t]) for t in TASKS}
        for split, cap in (("train", sizes), ("test", None)):
            for t in TASKS:
                n = len(texts[split][t])
                size = cap[t] if cap is not None else eval_rows
                if size and size < n:
                    keep = np.sort(rng.choice(n, size, replace=False))
                    texts[split][t] = [texts[split][t][i] for i in keep]
                    labels[split][t] = [labels[split][t][i] for i in keep]
        vec = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=20000, dtype=np.float32
        )
        vec.fit([x for t in TASKS for x in texts["train"][t]])
        self.X, self.Y, self.owner = {}, {}, {}
        for split in ("train", "test"):
            rows = [x for t in TASKS for x in texts[split][t]]
            owner = np.concatenate([np.full(len(texts[split][t]), i) for i, t in enumerate(TASKS)])
            frame = pd.DataFrame({t: pd.Series([None] * len(rows), dtype=object) for t in TASKS})
            start = 0
            for t in TASKS:
                n = len(texts[split][t])
                frame.loc[start : start + n - 1, t] = pd.Series(
                    labels[split][t], dtype=object
                ).values
                start += n
            frame["valence"] = pd.to_numeric(frame["valence"], errors="coerce")
            self.X[split] = vec.transform(rows).astype(np.float32).tocsr()
            self.Y[split], self.owner[split] = frame, owner
        self.sizes = {t: int((self.owner["train"] == i).sum()) for i, t in enumerate(TASKS)}
        self.test_sizes = {t: int((self.owner["test"] == i).sum()) for i, t in enumerate(TASKS)}
        self.sentiment_names = sorted({s for cell in labels["train"]["sentiment"] for s in cell})

    def fit_data(self, tasks):
        keep = np.isin(self.owner["train"], [TASKS.index(t) for t in tasks])
        return self.X["train"][keep], self.Y["train"].loc[keep, list(tasks)].reset_index(drop=True)

    def scores(self, model, tasks) -> dict:
        from scipy.stats import pearsonr
        from sklearn.metrics import f1_score
        from sklearn.preprocessing import MultiLabelBinarizer

        out = {}
        for t in tasks:
            rows = self.owner["test"] == TASKS.index(t)
            pred = model.predict(self.X["test"][rows])[t]
            truth = list(self.Y["test"].loc[rows, t])
            if t == "sentiment":
                mlb = MultiLabelBinarizer(classes=self.sentiment_names).fit([self.sentiment_names])
                out[t] = float(
                    f1_score(
                        mlb.transform(truth), mlb.transform(pred), average="macro", zero_division=0
                    )
                )
            elif t == "valence":
                out[t] = float(pearsonr(np.asarray(truth, float), np.asarray(pred, float))[0])
            else:
                out[t] = float(f1_score(truth, list(pred), average="macro", zero_division=0))
        return out


def estimator(sampling, weighting, seed, epochs, early_stopping=False):
    from skmtl import MultiTaskEstimator

    return MultiTaskEstimator(
        hidden_layer_sizes=(256,),
        learning_rate=3e-3,
        batch_size=256,
        max_epochs=epochs,
        early_stopping=early_stopping,
        n_iter_no_change=5,
        random_state=seed,
        tasks={"sentiment": "multilabel", "valence": "continuous", "genre": "multiclass"},
        task_sampling=sampling,
        weighting=weighting,
    )


def fit_and_score(data, sampling, weighting, seed, epochs, tasks=TASKS, early=False) -> dict:
    import warnings

    X, Y = data.fit_data(tasks)
    model = estimator(sampling, weighting, seed, epochs, early)
    if len(tasks) == 1:
        model.set_params(tasks={tasks[0]: model.tasks[tasks[0]]})
    tic, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Training stopped at max_epochs")
        model.fit(X, Y)
    durs = [float(d) for d in model.history_[:, "dur"]]
    record = model.history_[-1]
    return {
        "scores": data.scores(model, tasks),
        "fit_s": time.perf_counter() - tic,
        "fit_cpu_s": time.process_time() - cpu,
        "epoch_s": float(np.mean(durs)),
        "draws_last_epoch": record.get("task_draws"),
        "epochs_run": len(model.history_),
        "best_epoch": model.best_epoch_,
        "task_weight_last_epoch": dict(record["task_weight"]),
    }


def summarise(runs, single, seeds, same_epochs=None) -> dict:
    from skmtl.diagnostics import relative_gain

    out = {}
    for name, per_seed in runs.items():
        dm = [
            100 * relative_gain(per_seed[s]["scores"], single[s]["scores"])["delta_m"]
            for s in seeds
        ]
        out[name] = {
            "scores": {t: float(np.mean([per_seed[s]["scores"][t] for s in seeds])) for t in TASKS},
            "scores_std": {
                t: float(np.std([per_seed[s]["scores"][t] for s in seeds])) for t in TASKS
            },
            "delta_m_pct": float(np.mean(dm)),
            "delta_m_pct_std": float(np.std(dm)),
            "delta_m_pct_runs": dm,
            "delta_m_pct_vs_same_epochs": None
            if same_epochs is None
            else float(
                np.mean(
                    [
                        100
                        * relative_gain(per_seed[s]["scores"], same_epochs[s]["scores"])["delta_m"]
                        for s in seeds
                    ]
                )
            ),
            "epoch_s": float(np.mean([per_seed[s]["epoch_s"] for s in seeds])),
            "epoch_ratio": float(
                np.median([per_seed[s]["epoch_s"] / runs["natural"][s]["epoch_s"] for s in seeds])
            ),
            "draws": per_seed[seeds[0]]["draws_last_epoch"],
        }
    return out


def markdown(result) -> str:
    s, m = result["settings"], result["machine"]
    seeds = s["seeds"]
    lines = [
        "# Task sampling on three corpora of different sizes",
        "",
        "Tasks (train rows / test rows): "
        + ", ".join(f"{t} ({METRICS[t]}; {s['sizes'][t]} / {s['test_sizes'][t]})" for t in TASKS)
        + ". Each corpus has its own texts: a row has one task's label. "
        f"Model: MultiTaskEstimator over TF-IDF (20k word 1-2 grams), one shared 256 ReLU "
        f"layer, batch 256, {s['epochs']} epochs of {sum(s['sizes'].values())} draws each "
        "(the same number of steps for every row).",
        "",
        f"Seeds: {', '.join(map(str, seeds))} (means ± std over seeds). Machine: "
        f"{m['cpu_count']} CPUs, torch {m['torch']} ({m['torch_num_threads']} thread(s)). "
        f"Wall time of the run: {result['wall_s'] / 60:.1f} min.",
        "",
        "| rows | draws per epoch (s / v / g) | "
        + " | ".join(f"{t} ({METRICS[t]})" for t in TASKS)
        + " | Δm % vs single-task | epoch time / natural |",
        "|---|---|" + "---:|" * (len(TASKS) + 2),
    ]
    st, se = result["single_task"], result["single_task_same_epochs"]
    lines.append(
        "| single-task, early stopping (the Δm reference) | own corpus | "
        + " | ".join(f"{st[t]:.4f}" for t in TASKS)
        + " | 0 | |"
    )
    lines.append(
        f"| single-task, {s['epochs']} epochs | own corpus | "
        + " | ".join(f"{se[t]:.4f}" for t in TASKS)
        + " | | |"
    )
    for name, r in sorted(result["summary"].items(), key=lambda kv: -kv[1]["delta_m_pct"]):
        draws = r["draws"]
        d = " / ".join(str(draws[t]) for t in TASKS) if draws else "every row once"
        lines.append(
            f"| {name} | {d} | "
            + " | ".join(f"{r['scores'][t]:.4f} ± {r['scores_std'][t]:.4f}" for t in TASKS)
            + f" | {r['delta_m_pct']:+.2f} ± {r['delta_m_pct_std']:.2f} | "
            f"{r['epoch_ratio']:.2f} |"
        )
    lines += [
        "",
        "Single-task references: one model per corpus on its own rows; 'early stopping' "
        "holds out 10% of them, stops after 5 epochs without improvement and keeps the best "
        "epoch, with up to as many optimiser steps as a multi-task run (epochs x total "
        "draws / corpus size epochs). Δm vs the same-epochs reference is in the JSON "
        "(`delta_m_pct_vs_same_epochs`).",
        "Epoch time / natural: wall time per epoch over that of the natural order with the "
        "same seed (median over seeds; every row has the same number of steps).",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_root")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rows", help="comma-separated subset of the rows")
    ap.add_argument("--quick", action="store_true", help="smoke run: 10x smaller, 1 seed")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    sizes = dict(SIZES)
    eval_rows = None
    if args.quick:
        sizes = {t: max(100, n // 10) for t, n in sizes.items()}
        args.seeds, args.epochs, eval_rows = 1, 2, 1000
    seeds = list(range(args.seeds))
    out = Path(args.out or f"benchmarks/results/task_sampling{'_quick' if args.quick else ''}.json")
    names = args.rows.split(",") if args.rows else list(ROWS)
    if "natural" not in names:
        names = ["natural", *names]

    t0 = time.perf_counter()
    data = Corpora(args.data_root, sizes, eval_rows)
    print(f"train sizes {data.sizes}, test sizes {data.test_sizes}", flush=True)
    # Two single-task references per task: the same epochs over its own corpus, and
    # early stopping (10% of its rows held out) with up to as many steps as a multi-task
    # run takes; the second, the stronger one, is the reference of Δm.
    total = sum(data.sizes.values())
    single, same_epochs = {}, {}
    for seed in seeds:
        scores, plain, epochs_run = {}, {}, {}
        for t in TASKS:
            budget = int(np.ceil(args.epochs * total / data.sizes[t]))
            r = fit_and_score(data, None, make_weighting("equal"), seed, budget, (t,), early=True)
            scores.update(r["scores"])
            epochs_run[t] = {
                "budget": budget,
                "best_epoch": r["best_epoch"],
                "run": r["epochs_run"],
            }
            plain.update(
                fit_and_score(data, None, make_weighting("equal"), seed, args.epochs, (t,))[
                    "scores"
                ]
            )
        single[seed] = {"scores": scores, "epochs": epochs_run}
        same_epochs[seed] = {"scores": plain}
        print(f"seed {seed} single-task early-stopped {scores} {epochs_run}", flush=True)
        print(f"seed {seed} single-task {args.epochs} epochs {plain}", flush=True)
    runs = {n: {} for n in names}
    rng = np.random.RandomState(0)
    for seed in seeds:
        for name in [names[i] for i in rng.permutation(len(names))]:
            sampling, weighting = ROWS[name]
            r = fit_and_score(
                data, make_sampling(sampling, total), make_weighting(weighting), seed, args.epochs
            )
            runs[name][seed] = r
            print(
                f"seed {seed} {name:30s} "
                + " ".join(f"{t} {v:.4f}" for t, v in r["scores"].items())
                + f" | {r['epoch_s']:.2f} s/epoch",
                flush=True,
            )
    result = {
        "settings": {
            "sizes": data.sizes,
            "test_sizes": data.test_sizes,
            "available": data.available,
            "epochs": args.epochs,
            "seeds": seeds,
            "quick": args.quick,
            "rows": {n: list(map(str, ROWS[n])) for n in names},
        },
        "machine": machine_info(),
        "wall_s": time.perf_counter() - t0,
        "loadavg_end": list(os.getloadavg()),
        "single_task": {t: float(np.mean([single[s]["scores"][t] for s in seeds])) for t in TASKS},
        "single_task_runs": single,
        "single_task_same_epochs": {
            t: float(np.mean([same_epochs[s]["scores"][t] for s in seeds])) for t in TASKS
        },
        "single_task_same_epochs_runs": same_epochs,
        "summary": summarise(runs, single, seeds, same_epochs),
        "runs": runs,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    out.with_name(out.stem + ".md").write_text(markdown(result))
    print(markdown(result))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
