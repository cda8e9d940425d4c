"""Every weighting strategy against single-task models and tuned static weights.

One run per dataset:

* ``--dataset goemotions``: the three GoEmotions tasks (``emotion`` 28 labels,
  ``ekman`` 7, ``sentiment`` 4; multilabel), TF-IDF (word 1-2 grams, 20k
  features) and a :class:`skmtl.MultiTaskClassifier` MLP (one shared 256-unit
  layer); metric: macro-F1 over each task's label columns at threshold 0.5.
* ``--dataset ewt``: UD English-EWT UPOS and UNER NER, a
  :class:`skmtl.estimators.MultiTaskTagger` with a CNN
  :class:`~skmtl.encoders.TextEncoder` (``char_dim=16``); metrics: UPOS token
  accuracy and NER strict span micro-F1. The NER *train* tags are the
  pre-release UNER draft (see the data's PROVENANCE.md): scores are for
  comparing strategies here, not UNER results.

Rows of the table:

* every loss-based strategy (equal, uncertainty, DWA, RLW, FAMO, GradNorm,
  DB-MTL) and every gradient aggregator with its default ``on="parameters"``
  and again with ``on="representation"`` (cheaper);
* ``static (tuned)``: equal weighting with ``task_weights`` chosen by
  ``GridSearchCV`` over ``task_weights__<task>`` in {0.25, 0.5, 1, 2, 4} for
  every task but the first, which keeps 1 (AdamW is invariant to a common
  scale of the loss, so only the ratios matter; {0.5, 1, 2} per task would
  try the same ratios several times), with a ``PredefinedSplit`` that trains
  every candidate on the train split
  and scores it on the dev split (``refit=False``); the chosen weights are then
  fitted on the train split alone like every other row (a refit on
  train + dev would give this row more data than the others);
* ``single-task``: one model per task with the same settings (the Δm
  reference).

Reported: each task's test score, Δm against the single-task models
(:func:`skmtl.diagnostics.relative_gain`: the mean relative gain over tasks,
in %) and the time per epoch relative to equal weighting fitted with the same
seed (process CPU time of epochs 2..E, one torch thread by default; the wall
times are in the JSON). With several seeds every number is a
mean over seeds (Δm: the mean of per-seed Δm against the same seed's
single-task models), ± the standard deviation.

Usage::

    .venv/bin/python benchmarks/bench_weighting.py ../shared/data --dataset goemotions
    .venv/bin/python benchmarks/bench_weighting.py ../shared/data --dataset ewt
    .venv/bin/python benchmarks/bench_weighting.py ../shared/data --dataset ewt --quick
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _common import EWTTagging, GoEmotionsTfidf, machine_info

LOSS_BASED = (
    "equal",
    "uncertainty",
    "dwa",
    "rlw",
    "famo",
    "gradnorm",
    "dbmtl",
    "gls",
    "stch",
    "imtll",
)
GRADIENT = (
    "pcgrad",
    "gradvac",
    "mgda",
    "cagrad",
    "imtlg",
    "nashmtl",
    "alignedmtl",
    "upgrad",
    "graddrop",
    "excessmtl",
    "fairgrad",
    "config",
    "dualproj",
    "modo",
    "sdmgrad",
)
#: Strategies with their own backward pass that have no ``on="representation"`` mode.
OTHER = ("moco", "autolambda")
#: Task-sampling rows: ``<strategy>~<schedule>`` (every row of these data sets has every
#: task's label, so a schedule changes how often each task trains: a row drawn for one
#: task trains that task only).
SAMPLING = ("equal~uniform", "equal~temperature", "equal~annealed")
#: The strategies added with task sampling (``--rows new``).
NEW = (
    "gls",
    "stch",
    "imtll",
    "excessmtl",
    "fairgrad",
    "config",
    "dualproj",
    "modo",
    "sdmgrad",
    "moco",
    "autolambda",
)
STATIC = "static (tuned)"
GRID = (0.25, 0.5, 1.0, 2.0, 4.0)


def make_strategy(name: str, seed: int):
    """The strategy of a row name: ``"pcgrad"`` or ``"pcgrad@representation"``."""
    from skmtl import weighting as W

    base, _, on = name.partition("~")[0].partition("@")
    makers = {
        "equal": lambda: W.EqualWeighting(),
        "uncertainty": lambda: W.UncertaintyWeighting(),
        "dwa": lambda: W.DWA(),
        "rlw": lambda: W.RLW(random_state=seed),
        "famo": lambda: W.FAMO(),
        "gradnorm": lambda: W.GradNorm(),
        "dbmtl": lambda: W.DBMTL(),
        "pcgrad": lambda: W.PCGrad(random_state=seed),
        "gradvac": lambda: W.GradVac(random_state=seed),
        "mgda": lambda: W.MGDA(),
        "cagrad": lambda: W.CAGrad(),
        "imtlg": lambda: W.IMTLG(),
        "nashmtl": lambda: W.NashMTL(),
        "alignedmtl": lambda: W.AlignedMTL(),
        "upgrad": lambda: W.UPGrad(),
        "graddrop": lambda: W.GradDrop(random_state=seed),
        "gls": lambda: W.GLS(),
        "stch": lambda: W.STCH(),
        "imtll": lambda: W.IMTLL(),
        "excessmtl": lambda: W.ExcessMTL(),
        "fairgrad": lambda: W.FairGrad(),
        "config": lambda: W.ConFIG(),
        "dualproj": lambda: W.DualProj(),
        "modo": lambda: (
            W.MoDo(random_state=seed) if "random_state" in W.MoDo().get_params() else W.MoDo()
        ),
        "sdmgrad": lambda: W.SDMGrad(),
        "moco": lambda: W.MoCo(),
        "autolambda": lambda: W.AutoLambda(),
    }
    strategy = makers[base]()
    if on:
        strategy.set_params(on=on)
    return strategy


def make_sampling(name: str, n_rows: int):
    """The task sampler of a row name (``"equal~uniform"``; None without ``~``).

    ``epoch_size=n_rows``: every row of these data sets has every task's label, so the
    default epoch (one draw per labelled (task, row) pair) would take n_tasks times the
    steps of the natural order; with ``n_rows`` draws an epoch takes the same steps.
    """
    from skmtl import sampling as S

    schedule = name.partition("~")[2]
    if not schedule:
        return None
    return {
        "uniform": S.UniformSampling(epoch_size=n_rows),
        "temperature": S.TemperatureSampling(temperature=2.0, epoch_size=n_rows),
        "annealed": S.AnnealedSampling(epoch_size=n_rows),
    }[schedule]


def row_names(skip_parameters: bool = False, rows: str | None = None) -> list[str]:
    if rows == "new":  # the strategies and schedules added with task sampling
        gradient = [n for n in NEW if n in GRADIENT]
        names = [n for n in NEW if n not in GRADIENT or not skip_parameters]
        return names + [f"{g}@representation" for g in gradient] + list(SAMPLING)
    if rows:
        return rows.split(",")
    names = list(LOSS_BASED)
    if not skip_parameters:
        names += list(GRADIENT)
    names += [f"{g}@representation" for g in GRADIENT]
    return names + list(OTHER) + list(SAMPLING)


def family(name: str) -> str:
    base, _, on = name.partition("~")[0].partition("@")
    if name == STATIC:
        return "static, grid-searched"
    if "~" in name:
        return "task sampling (" + name.partition("~")[2] + ")"
    if base == "autolambda":
        return "bilevel (held-out rows)"
    if base in LOSS_BASED:
        return "loss-based"
    if base in OTHER:
        return "gradient (parameters)"
    return "gradient (representation)" if on else "gradient (parameters)"


# --------------------------------------------------------------------------- GoEmotions


class GoEmotions(GoEmotionsTfidf):
    def __init__(self, root: str, args) -> None:
        super().__init__(root, train_rows=args.train_rows, max_features=args.max_features)
        self.epochs = args.epochs or 5
        self.describe = (
            f"GoEmotions: {self.X['train'].shape[0]} train / {self.X['dev'].shape[0]} dev / "
            f"{self.X['test'].shape[0]} test comments; TF-IDF word 1-2 grams, "
            f"{self.X['train'].shape[1]} features (fit on train). Model: MultiTaskClassifier, "
            f"one shared 256 ReLU layer, a linear multilabel head per task, AdamW lr 3e-3, "
            f"batch 512, {self.epochs} epochs. Metric: macro-F1 over each task's label "
            "columns at threshold 0.5 (zero_division=0)."
        )
        self.notes = []

    def estimator(self, strategy, seed, task_weights=None, task_sampling=None):
        from skmtl import MultiTaskClassifier

        return MultiTaskClassifier(
            hidden_layer_sizes=(256,),
            learning_rate=3e-3,
            batch_size=512,
            max_epochs=self.epochs,
            random_state=seed,
            weighting=strategy,
            task_weights=task_weights,
            task_sampling=task_sampling,
        )

    def search_data(self):
        import scipy.sparse as sp

        X = sp.vstack([self.X["train"], self.X["dev"]]).tocsr()
        Y = pd.concat([self.Y["train"], self.Y["dev"]], ignore_index=True)
        fold = np.r_[np.full(self.X["train"].shape[0], -1), np.zeros(self.X["dev"].shape[0])]
        return X, Y, fold


# --------------------------------------------------------------------------- EWT


class EWT(EWTTagging):
    def __init__(self, root: str, args) -> None:
        super().__init__(root, train_rows=args.train_rows)
        self.epochs = args.epochs or 3
        self.batch_size = args.batch_size or 32
        n_words = sum(map(len, self.X["train"]))
        self.describe = (
            f"UD English-EWT r2.9 + UNER: {len(self.X['train'])} train sentences "
            f"({n_words} words"
            + (", a random subset of the train split" if args.train_rows else "")
            + f") / {len(self.X['dev'])} dev / {len(self.X['test'])} test; tasks upos + ner. "
            "Model: MultiTaskTagger, TextEncoder(architecture='cnn', char_dim=16) (defaults "
            f"otherwise), a linear softmax head per task, batch {self.batch_size}, "
            f"{self.epochs} epochs. Metrics: UPOS token accuracy, NER strict span micro-F1 "
            "(skmtl._spans)."
        )

    def estimator(self, strategy, seed, task_weights=None, task_sampling=None):
        from skmtl.encoders import TextEncoder
        from skmtl.estimators import MultiTaskTagger

        return MultiTaskTagger(
            encoder=TextEncoder(architecture="cnn", char_dim=16),
            max_epochs=self.epochs,
            batch_size=self.batch_size,
            random_state=seed,
            weighting=strategy,
            task_weights=task_weights,
            task_sampling=task_sampling,
            # the recorded results predate weight averaging (now the tagger's default);
            # pinned off so that they stay reproducible
            weight_averaging=0.0,
        )

    def search_data(self):
        X = list(self.X["train"]) + list(self.X["dev"])
        Y = pd.concat([self.Y["train"], self.Y["dev"]], ignore_index=True)
        fold = np.r_[np.full(len(self.X["train"]), -1), np.zeros(len(self.X["dev"]))]
        return X, Y, fold


# --------------------------------------------------------------------------- runs


def epoch_clock(strategy):
    """``bench_weighting_cost.EpochClock`` for this strategy's class (CPU time per epoch)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_weighting_cost import EpochClock

    return EpochClock(type(strategy))


def fit_and_score(data, strategy, seed, task_weights=None, tasks=None, sampling=None) -> dict:
    X, Y = data.fit_data(tasks)
    model = data.estimator(strategy, seed, task_weights, sampling)
    tic, cpu0 = time.perf_counter(), time.process_time()
    with epoch_clock(strategy) as clock:
        model.fit(X, Y)
    fit_s = time.perf_counter() - tic
    durs = [float(d) for d in model.history_[:, "dur"]]
    # Process CPU time per epoch: between the ends of epochs 2..E (the first
    # epoch also holds fit's set-up, so it is used alone only for one epoch).
    marks = [c for _, c in clock.marks]
    cpu = np.diff(marks) if len(marks) > 1 else np.array([marks[0] - cpu0])
    return {
        "scores": data.scores(model, tasks=tasks),
        "epoch_s": float(np.mean(durs)),
        "epoch_s_runs": durs,
        "epoch_cpu_s": float(np.mean(cpu)),
        "fit_s": fit_s,
        "task_weight_last_epoch": dict(model.history_[-1, "task_weight"]),
    }


def tune_static(data, seed) -> dict:
    """GridSearchCV over task_weights__<task>: train on train, score on dev."""
    from sklearn.model_selection import GridSearchCV, PredefinedSplit

    from skmtl.weighting import EqualWeighting

    X, Y, fold = data.search_data()

    def dev_score(estimator, X_dev, Y_dev):
        pred = estimator.predict(X_dev)
        scores = data.score_predictions(pred, Y_dev.reset_index(drop=True))
        return float(np.mean(list(scores.values())))

    # AdamW is invariant to a common scale of the loss (up to its eps), so only
    # the ratios of the weights matter: the first task keeps weight 1 and the
    # others are searched (a full grid per task would repeat the same ratios).
    grid = {f"task_weights__{t}": list(GRID) for t in data.tasks[1:]}
    search = GridSearchCV(
        data.estimator(EqualWeighting(), seed, task_weights=dict.fromkeys(data.tasks, 1.0)),
        grid,
        cv=PredefinedSplit(fold),
        scoring=dev_score,
        refit=False,
        error_score="raise",
    )
    tic = time.perf_counter()
    search.fit(X, Y)
    search_s = time.perf_counter() - tic
    best = {data.tasks[0]: 1.0}
    best.update({t: float(search.best_params_[f"task_weights__{t}"]) for t in data.tasks[1:]})
    table = [
        {
            "task_weights": {
                data.tasks[0]: 1.0,
                **{t: float(p[f"task_weights__{t}"]) for t in data.tasks[1:]},
            },
            "dev_score": float(s),
        }
        for p, s in zip(
            search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
        )
    ]
    return {"best": best, "search_s": search_s, "candidates": table}


def summarise(runs: dict, single: dict, tasks) -> dict:
    """Mean and std over seeds of scores, Δm (%) and the epoch-time ratio to equal."""
    from skmtl.diagnostics import relative_gain

    seeds = sorted(single)
    out = {}
    for name, per_seed in runs.items():
        scores = {t: [per_seed[s]["scores"][t] for s in seeds] for t in tasks}
        dm = [
            100 * relative_gain(per_seed[s]["scores"], single[s]["scores"])["delta_m"]
            for s in seeds
        ]
        ratio = [per_seed[s]["epoch_cpu_s"] / runs["equal"][s]["epoch_cpu_s"] for s in seeds]
        wall = [per_seed[s]["epoch_s"] / runs["equal"][s]["epoch_s"] for s in seeds]
        out[name] = {
            "family": family(name),
            "scores": {t: float(np.mean(v)) for t, v in scores.items()},
            "scores_std": {t: float(np.std(v)) for t, v in scores.items()},
            "delta_m_pct": float(np.mean(dm)),
            "delta_m_pct_std": float(np.std(dm)),
            "delta_m_pct_runs": dm,
            "epoch_time_ratio": float(np.median(ratio)),
            "epoch_time_ratio_runs": ratio,
            "epoch_wall_ratio": float(np.median(wall)),
            "epoch_s": float(np.mean([per_seed[s]["epoch_s"] for s in seeds])),
            "epoch_cpu_s": float(np.mean([per_seed[s]["epoch_cpu_s"] for s in seeds])),
        }
    return out


def markdown(result: dict) -> str:
    s, m = result["settings"], result["machine"]
    tasks = s["tasks"]
    n_seeds = len(s["seeds"])
    title = {"goemotions": "GoEmotions (3 tasks)", "ewt": "EWT (UPOS + NER)"}[s["dataset"]]
    pm = " ± std" if n_seeds > 1 else ""
    lines = [
        f"# Weighting strategies on {title}",
        "",
        s["describe"],
        "",
        f"Seeds: {', '.join(map(str, s['seeds']))}"
        f"{' (every number a mean over seeds)' if n_seeds > 1 else ''}. "
        f"Machine: {m['cpu_count']} CPUs, torch {m['torch']} ({m['torch_num_threads']} "
        f"thread(s)), skmtl {m['skmtl']}. Wall time of the whole run: "
        f"{result['wall_s'] / 60:.1f} min. Load average at start / end: "
        f"{result['loadavg_start'][0]:.1f} / {result['loadavg_end'][0]:.1f}.",
        "",
    ]
    header = (
        "| strategy | family | "
        + " | ".join(f"{t} ({s['metrics'][t]})" for t in tasks)
        + f" | Δm % vs single-task{pm} | epoch time / equal |"
    )
    lines += [header, "|---|---|" + "---:|" * (len(tasks) + 2)]
    st = result["single_task"]
    lines.append(
        "| single-task (one model per task) | reference | "
        + " | ".join(f"{st['scores'][t]:.4f}" for t in tasks)
        + " | 0 | |"
    )
    rows = sorted(result["summary"].items(), key=lambda kv: -kv[1]["delta_m_pct"])
    for name, r in rows:
        dm = f"{r['delta_m_pct']:+.2f}"
        if n_seeds > 1:
            dm += f" ± {r['delta_m_pct_std']:.2f}"
        lines.append(
            f"| {name} | {r['family']} | "
            + " | ".join(f"{r['scores'][t]:.4f}" for t in tasks)
            + f" | {dm} | {r['epoch_time_ratio']:.2f} |"
        )
    tuned = result["static"]
    lines += [""]
    if tuned is not None:
        lines.append(
            f"`{STATIC}`: `task_weights` {tuned['best']} chosen on dev by GridSearchCV over "
            f"`task_weights__<task>` in {{{', '.join(str(g) for g in GRID)}}} for every task "
            "but "
            f"the first, which keeps 1 (AdamW is invariant to a common scale of the loss, so "
            f"only ratios matter; {len(tuned['candidates'])} candidates, PredefinedSplit "
            f"train -> dev, refit=False, seed {s['seeds'][0]}: as many fits as candidates, "
            f"{tuned['search_s']:.0f} s of wall time here), then fitted on train like every "
            "other row."
        )
    lines += [
        "`name@representation`: the aggregator on the gradients with respect to the shared "
        'representation (`on="representation"`; MGDA-UB for MGDA). `equal~<schedule>`: '
        "equal weighting with `task_sampling=<schedule>` (uniform, temperature T=2, "
        "annealed; a row drawn for one task trains that task only; `epoch_size` = the "
        "number of training rows, so an epoch takes the same steps as the natural order).",
        f"Epoch time / equal: process CPU time per training epoch ({m['torch_num_threads']} "
        "torch thread(s); epochs 2..E, so fit's set-up is excluded) over that of equal "
        "weighting with the same seed, median over seeds; CPU time is much less disturbed "
        "than wall time by other processes on a shared machine (the wall-time ratios are in "
        "the JSON). See `weighting_cost.md` for the controlled per-step measurement.",
    ]
    for note in s.get("notes", []):
        lines.append(note)
    lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_root")
    ap.add_argument("--dataset", choices=("goemotions", "ewt"), required=True)
    ap.add_argument("--seeds", type=int, default=None, help="goemotions: 3, ewt: 1")
    ap.add_argument("--epochs", type=int, default=None, help="goemotions: 5, ewt: 3")
    ap.add_argument("--batch-size", type=int, default=None, help="ewt only (default 32)")
    ap.add_argument("--train-rows", type=int, default=None, help="random train subset")
    ap.add_argument("--max-features", type=int, default=20000, help="goemotions TF-IDF")
    ap.add_argument(
        "--skip-parameters",
        action="store_true",
        help="gradient aggregators in representation mode only",
    )
    ap.add_argument(
        "--rows", help="comma-separated subset of the strategy rows, or 'new' (see NEW)"
    )
    ap.add_argument(
        "--no-static", action="store_true", help="skip the tuned static weights (a grid search)"
    )
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--quick", action="store_true", help="smoke run: small subset, 2 epochs")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.quick:
        args.train_rows = args.train_rows or (3000 if args.dataset == "goemotions" else 600)
        args.epochs = args.epochs or 2
        args.seeds = args.seeds or 1
    torch.set_num_threads(args.threads)
    n_seeds = args.seeds or (3 if args.dataset == "goemotions" else 1)
    seeds = list(range(n_seeds))
    out = Path(
        args.out
        or f"benchmarks/results/weighting_{args.dataset}{'_quick' if args.quick else ''}.json"
    )

    load_start = os.getloadavg()
    t0 = time.perf_counter()
    data = (GoEmotions if args.dataset == "goemotions" else EWT)(args.data_root, args)
    names = row_names(args.skip_parameters, args.rows)
    if "equal" not in names:
        names = ["equal", *names]
    print(data.describe, flush=True)

    single = {}
    for seed in seeds:
        scores = {}
        for t in data.tasks:
            r = fit_and_score(data, make_strategy("equal", seed), seed, tasks=[t])
            scores.update(r["scores"])
        single[seed] = {"scores": scores}
        print(f"seed {seed} single-task {scores}", flush=True)

    tuned = None
    if not args.no_static:
        tuned = tune_static(data, seeds[0])
        print(f"static weights chosen on dev: {tuned['best']} ({tuned['search_s']:.0f} s)")
    statics = [] if tuned is None else [STATIC]
    runs: dict[str, dict] = {n: {} for n in [*names, *statics]}
    rng = np.random.RandomState(0)
    for seed in seeds:
        order = [*names, *statics]
        order = [order[i] for i in rng.permutation(len(order))]  # interleave machine noise
        for name in order:
            if name == STATIC:
                r = fit_and_score(
                    data, make_strategy("equal", seed), seed, task_weights=tuned["best"]
                )
            else:
                sampling = make_sampling(name, len(data.fit_data()[1]))
                r = fit_and_score(data, make_strategy(name, seed), seed, sampling=sampling)
            runs[name][seed] = r
            print(
                f"seed {seed} {name:26s} "
                + " ".join(f"{t} {v:.4f}" for t, v in r["scores"].items())
                + f" | {r['epoch_s']:.2f} s/epoch",
                flush=True,
            )

    summary = summarise(runs, single, data.tasks)
    single_mean = {t: float(np.mean([single[s]["scores"][t] for s in seeds])) for t in data.tasks}
    result = {
        "settings": {
            "dataset": args.dataset,
            "describe": data.describe,
            "tasks": list(data.tasks),
            "metrics": data.metric,
            "seeds": seeds,
            "epochs": data.epochs,
            "train_rows": args.train_rows,
            "quick": args.quick,
            "notes": data.notes,
            "load_warnings": getattr(data, "load_warnings", []),
        },
        "machine": machine_info(),
        "loadavg_start": list(load_start),
        "loadavg_end": list(os.getloadavg()),
        "wall_s": time.perf_counter() - t0,
        "equal_fit_s": float(np.mean([runs["equal"][s]["fit_s"] for s in seeds])),
        "single_task": {"scores": single_mean, "runs": single},
        "static": tuned,
        "summary": summary,
        "runs": runs,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    print(f"wrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
