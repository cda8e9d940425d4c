"""One weight-conditioned fit against a grid of static task-weight fits.

For each data set and seed, side by side in one run:

* ``single``: one single-task model per task (the Δm reference);
* ``plain``: one multi-task fit at equal weights (the time reference);
* ``grid``: one static fit per weight vector of the grid (what ``GridSearchCV``
  over ``task_weights`` fits), at least 9 vectors, all in the simplex's interior;
* ``conditioned``: ONE fit with ``weighting=WeightConditioned()`` (same epochs,
  same everything), then every vector of the grid served by ``set_params``.

Reported per data set (3 seeds): the hypervolume of the conditioned front over
the grid's (test scores, one reference point per seed: the per-task minimum
over both fronts), the best Δm each finds (the vector with the best dev Δm;
its test Δm against the single-task models), and the time of the conditioned
fit and of the grid over one plain fit (process CPU time, 1 torch thread;
wall time in the JSON).

Data: GoEmotions (emotion, ekman, sentiment; TF-IDF MLP, macro-F1), EmoBank
(V, A, D; TF-IDF MLP, Pearson r), UD English-EWT + UNER (UPOS, NER; the
tagger, token accuracy and span F1). Run::

    .venv/bin/python benchmarks/bench_weight_conditioned.py ../shared/data
    .venv/bin/python benchmarks/bench_weight_conditioned.py ../shared/data --quick

Writes ``benchmarks/results/weight_conditioned{tag}.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

DATASETS = ("goemotions", "emobank", "ewt")
KINDS = ("grid", "grid_film", "conditioned")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def interior_grid(tasks, parts: int) -> list[dict]:
    """Weight vectors with every entry a positive multiple of 1/parts, summing to 1."""
    k = len(tasks)
    out = []
    for combo in itertools.product(range(1, parts), repeat=k):
        if sum(combo) == parts:
            out.append({t: c / parts for t, c in zip(tasks, combo, strict=True)})
    return out


# --------------------------------------------------------------------------- data sets


class GoEmotions:
    name = "goemotions"

    def __init__(self, root, quick):
        from _common import GoEmotionsTfidf

        rows = 8000 if quick else None
        self.data = GoEmotionsTfidf(root, train_rows=rows, eval_rows=1500 if quick else None)
        self.tasks = list(self.data.tasks)
        self.metric = "macro-F1"
        self.epochs = 2 if quick else 5
        self.grid = interior_grid(self.tasks, 6)
        n = self.data.n_rows
        self.describe = (
            f"GoEmotions: {n['train']} train / {n['dev']} dev / {n['test']} test comments, "
            f"TF-IDF word 1-2 grams ({self.data.n_features} features); MultiTaskClassifier, "
            f"one shared 256 ReLU layer, AdamW lr 3e-3, batch 512, {self.epochs} epochs; "
            "macro-F1 per task."
        )

    def estimator(self, seed, **params):
        from skmtl import MultiTaskClassifier

        return MultiTaskClassifier(
            hidden_layer_sizes=(256,),
            learning_rate=3e-3,
            batch_size=512,
            max_epochs=self.epochs,
            random_state=seed,
            **params,
        )

    def fit(self, model, tasks=None):
        X, Y = self.data.fit_data(tasks)
        return model.fit(X, Y)

    def scores(self, model, split, tasks=None):
        return self.data.scores(model, split, tasks)


class EmoBank:
    name = "emobank"

    def __init__(self, root, quick):
        from sklearn.feature_extraction.text import TfidfVectorizer

        from skmtl.datasets import load_emobank

        splits = {
            s: load_emobank(Path(root) / "emobank", split=s) for s in ("train", "dev", "test")
        }
        if quick:
            for s, b in splits.items():
                n = 2000 if s == "train" else 500
                b.text, b.targets = b.text[:n], b.targets.iloc[:n]
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, dtype=np.float32)
        self.X = {"train": vec.fit_transform(splits["train"].text)}
        for s in ("dev", "test"):
            self.X[s] = vec.transform(splits[s].text)
        self.Y = {s: b.targets[["V", "A", "D"]].reset_index(drop=True) for s, b in splits.items()}
        self.tasks = ["V", "A", "D"]
        self.metric = "Pearson r"
        self.epochs = 4 if quick else 10
        self.grid = interior_grid(self.tasks, 6)
        n = {s: self.X[s].shape[0] for s in self.X}
        self.describe = (
            f"EmoBank: {n['train']} train / {n['dev']} dev / {n['test']} test sentences, "
            f"TF-IDF word 1-2 grams ({self.X['train'].shape[1]} features); "
            "MultiTaskRegressor, one shared 256 ReLU layer, dropout 0.3, AdamW lr 3e-3, "
            f"weight decay 1e-4, batch 128, {self.epochs} epochs; Pearson r per dimension."
        )

    def estimator(self, seed, **params):
        from skmtl import MultiTaskRegressor

        return MultiTaskRegressor(
            hidden_layer_sizes=(256,),
            dropout=0.3,
            learning_rate=3e-3,
            weight_decay=1e-4,
            batch_size=128,
            max_epochs=self.epochs,
            random_state=seed,
            **params,
        )

    def fit(self, model, tasks=None):
        Y = self.Y["train"]
        return model.fit(self.X["train"], Y if tasks is None else Y[list(tasks)])

    def scores(self, model, split, tasks=None):
        from scipy.stats import pearsonr

        pred = model.predict(self.X[split])
        truth = self.Y[split]
        return {
            t: float(pearsonr(truth[t].to_numpy(float), np.asarray(pred[t], dtype=float))[0])
            for t in (tasks or self.tasks)
        }


class EWT:
    name = "ewt"

    def __init__(self, root, quick):
        from _common import EWTTagging

        self.data = EWTTagging(
            root, train_rows=600 if quick else 4000, eval_rows=300 if quick else None
        )
        self.tasks = list(self.data.tasks)
        self.metric = "UPOS token accuracy / NER span F1"
        self.epochs = 1 if quick else 2
        self.grid = interior_grid(self.tasks, 10)
        n = self.data.n_rows
        self.describe = (
            f"UD English-EWT r2.9 + UNER: {n['train']} train sentences (a random subset) / "
            f"{n['dev']} dev / {n['test']} test; MultiTaskTagger, TextEncoder(architecture="
            f"'cnn', char_dim=16), batch 32, {self.epochs} epochs; UPOS token accuracy, NER "
            "strict span micro-F1. " + " ".join(self.data.notes)
        )

    def estimator(self, seed, **params):
        from skmtl import MultiTaskTagger
        from skmtl.encoders import TextEncoder

        return MultiTaskTagger(
            encoder=TextEncoder(architecture="cnn", char_dim=16),
            max_epochs=self.epochs,
            batch_size=32,
            random_state=seed,
            **params,
        )

    def fit(self, model, tasks=None):
        X, Y = self.data.fit_data(tasks)
        return model.fit(X, Y)

    def scores(self, model, split, tasks=None):
        return self.data.scores(model, split, tasks)


SETUPS = {"goemotions": GoEmotions, "emobank": EmoBank, "ewt": EWT}


# --------------------------------------------------------------------------- measuring


def timed_fit(setup, model, tasks=None):
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        setup.fit(model, tasks)
    return model, {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


def delta_m(scores: dict, single: dict) -> float:
    if any(single[t] == 0 for t in single):
        return float("nan")  # a single-task score of 0 (tiny --quick runs)
    return float(np.mean([(scores[t] - single[t]) / abs(single[t]) for t in single]) * 100)


def run_seed(setup, seed: int, cond_epochs: int, sampling: str = "row") -> dict:
    from skmtl.weighting import WeightConditioned

    out = {"seed": seed, "single": {}, "grid": [], "conditioned": []}
    for t in setup.tasks:
        model, tm = timed_fit(setup, setup.estimator(seed), [t])
        out["single"][t] = {
            "dev": setup.scores(model, "dev", [t])[t],
            "test": setup.scores(model, "test", [t])[t],
            "time": tm,
        }
    log(f"{setup.name} seed {seed}: single-task done")
    model, out["plain_time"] = timed_fit(setup, setup.estimator(seed))
    out["plain"] = {s: setup.scores(model, s) for s in ("dev", "test")}
    for w in setup.grid:
        model, tm = timed_fit(setup, setup.estimator(seed, task_weights=w))
        out["grid"].append(
            {"weights": w, "time": tm, **{s: setup.scores(model, s) for s in ("dev", "test")}}
        )
    log(f"{setup.name} seed {seed}: grid of {len(setup.grid)} done")
    # The fair grid: the conditioned model's own layers (FiLM), each trained at one fixed
    # weight vector (a Dirichlet concentrated on it) and served at it.
    out["grid_film"] = []
    for w in setup.grid:
        alpha = [1e6 * w[t] for t in setup.tasks]
        fixed = WeightConditioned(concentration=alpha, random_state=seed)
        model, tm = timed_fit(setup, setup.estimator(seed, weighting=fixed, task_weights=w))
        out["grid_film"].append(
            {"weights": w, "time": tm, **{s: setup.scores(model, s) for s in ("dev", "test")}}
        )
    log(f"{setup.name} seed {seed}: FiLM grid done")
    strategy = WeightConditioned(sampling=sampling, random_state=seed)
    cond = setup.estimator(seed, weighting=strategy)
    cond.set_params(max_epochs=cond_epochs)
    model, out["conditioned_time"] = timed_fit(setup, cond)
    for w in setup.grid:
        model.set_params(task_weights=w)
        out["conditioned"].append(
            {"weights": w, **{s: setup.scores(model, s) for s in ("dev", "test")}}
        )
    log(f"{setup.name} seed {seed}: conditioned done")
    # Control: the same FiLM layers, always at equal weights (a Dirichlet of huge
    # concentration): what the conditioned model gains from its parametrisation alone.
    fixed = setup.estimator(
        seed, weighting=WeightConditioned(concentration=1e6, random_state=seed)
    ).set_params(max_epochs=cond_epochs)
    model, tm = timed_fit(setup, fixed)
    out["film_fixed"] = {"time": tm, **{s: setup.scores(model, s) for s in ("dev", "test")}}
    return out


def summarise(setup_tasks, run: dict) -> dict:
    from skmtl.model_selection import hypervolume

    single = {s: {t: run["single"][t][s] for t in setup_tasks} for s in ("dev", "test")}
    res = {}
    fronts = {}
    for kind in KINDS:
        points = run[kind]
        dev_dm = [delta_m(p["dev"], single["dev"]) for p in points]
        best = int(np.nanargmax(dev_dm)) if not np.all(np.isnan(dev_dm)) else 0
        fronts[kind] = np.array([[p["test"][t] for t in setup_tasks] for p in points])
        res[kind] = {
            "best_weights": points[best]["weights"],
            "best_test_delta_m": delta_m(points[best]["test"], single["test"]),
            "oracle_test_delta_m": max(delta_m(p["test"], single["test"]) for p in points),
        }
    ref = np.min([f.min(0) for f in fronts.values()], axis=0)
    for kind in fronts:
        res[kind]["hypervolume"] = float(hypervolume(fronts[kind], ref))
    for grid in ("grid", "grid_film"):
        grid_hv = res[grid]["hypervolume"]
        res[f"hv_ratio_{grid}"] = (
            res["conditioned"]["hypervolume"] / grid_hv if grid_hv > 0 else float("nan")
        )
    res["hv_ratio"] = res["hv_ratio_grid"]
    res["plain_test_delta_m"] = delta_m(run["plain"]["test"], single["test"])
    res["film_fixed_test_delta_m"] = delta_m(run["film_fixed"]["test"], single["test"])
    # How far each front reaches along each task: max - min of its test scores.
    res["spread"] = {
        kind: dict(zip(setup_tasks, map(float, np.ptp(front, axis=0)), strict=True))
        for kind, front in fronts.items()
    }
    plain = run["plain_time"]
    res["time_ratio"] = {
        "conditioned_cpu": run["conditioned_time"]["cpu"] / plain["cpu"],
        "conditioned_wall": run["conditioned_time"]["wall"] / plain["wall"],
    }
    for grid in ("grid", "grid_film"):
        for k in ("wall", "cpu"):
            total = sum(p["time"][k] for p in run[grid])
            res["time_ratio"][f"{grid}_{k}"] = total / plain[k]
    return res


def run_dataset(
    name: str, root: str, seeds, quick: bool, epoch_factor: float, sampling: str = "row"
) -> dict:
    import torch

    torch.set_num_threads(1)
    tic = time.perf_counter()
    setup = SETUPS[name](root, quick)
    cond_epochs = max(1, int(round(setup.epochs * epoch_factor)))
    runs = [run_seed(setup, seed, cond_epochs, sampling) for seed in seeds]
    summaries = [summarise(setup.tasks, r) for r in runs]
    return {
        "dataset": name,
        "describe": setup.describe,
        "tasks": setup.tasks,
        "metric": setup.metric,
        "epochs": setup.epochs,
        "conditioned_epochs": cond_epochs,
        "sampling": sampling,
        "n_grid": len(setup.grid),
        "runs": runs,
        "summaries": summaries,
        "wall_s": time.perf_counter() - tic,
    }


# --------------------------------------------------------------------------- report


def _ms(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.2f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.2f}"


def verdicts(result: dict) -> dict:
    """The three goals, against each grid (``grid``: plain static fits; ``grid_film``)."""
    s = result["summaries"]
    cond = np.array([x["conditioned"]["best_test_delta_m"] for x in s])
    tr = np.array([x["time_ratio"]["conditioned_cpu"] for x in s])
    out = {}
    for kind in ("grid", "grid_film"):
        grid = np.array([x[kind]["best_test_delta_m"] for x in s])
        noise = (
            float(np.sqrt((grid.std(ddof=1) ** 2 + cond.std(ddof=1) ** 2) / 2))
            if len(s) > 1
            else 0.0
        )
        hv = np.array([x[f"hv_ratio_{kind}"] for x in s])
        out[kind] = {
            "delta_m_gap": float(cond.mean() - grid.mean()),
            "seed_noise_std": noise,
            "delta_m_within_noise": bool(cond.mean() >= grid.mean() - noise),
            "hv_ratio_mean": float(hv.mean()),
            "hv_goal_met": bool(hv.mean() >= 0.95),
            "time_ratio_mean": float(tr.mean()),
            "time_goal_met": bool(tr.mean() <= 1.5),
        }
    return out


def write_report(results: list[dict], path_md: Path, command: str, info: dict) -> None:
    lines = [
        "# One weight-conditioned fit vs a grid of static task-weight fits",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {info.get('cpu_count')} CPUs, torch {info.get('torch')} (1 thread per "
        f"data set), skmtl {info.get('skmtl')}.",
        "",
        "Per data set and seed: one single-task model per task (Δm reference), one plain "
        "multi-task fit at equal weights (time reference), one static fit per grid vector "
        "(the fits of `GridSearchCV` over `task_weights`), and one `WeightConditioned` fit "
        "serving every grid vector through `set_params(task_weights=...)`. Best Δm: the "
        "vector with the best dev Δm, scored on test. Hypervolume: test scores of the grid "
        "vectors, reference point the per-task minimum over both fronts (per seed). Time: "
        "process CPU time over the plain fit's.",
        "",
        "| data set | grid vectors | best Δm % grid | best Δm % FiLM grid "
        "| best Δm % conditioned | Δm % plain | Δm % FiLM at equal weights "
        "| time cond / plain | time grid / plain | time FiLM grid / plain |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s = r["summaries"]
        lines.append(
            f"| {r['dataset']} | {r['n_grid']} "
            f"| {_ms([x['grid']['best_test_delta_m'] for x in s])} "
            f"| {_ms([x['grid_film']['best_test_delta_m'] for x in s])} "
            f"| {_ms([x['conditioned']['best_test_delta_m'] for x in s])} "
            f"| {_ms([x['plain_test_delta_m'] for x in s])} "
            f"| {_ms([x['film_fixed_test_delta_m'] for x in s])} "
            f"| {_ms([x['time_ratio']['conditioned_cpu'] for x in s])} "
            f"| {_ms([x['time_ratio']['grid_cpu'] for x in s])} "
            f"| {_ms([x['time_ratio']['grid_film_cpu'] for x in s])} |"
        )
    lines += [
        "",
        "`grid`: plain static fits (the issue's comparison). `FiLM grid`: the "
        "conditioned model's own layers trained at one fixed weight vector each (a "
        "Dirichlet of concentration 1e6 times the vector), the control that separates "
        "what conditioning does from what the FiLM layers do. `FiLM at equal weights`: "
        "one such fit at equal weights.",
        "",
        "Goals (mean over seeds): HV ratio >= 0.95; conditioned best Δm within seed "
        "noise of the grid's (gap >= -noise, noise = RMS of the two seed std); time "
        "<= 1.5x one plain fit.",
        "",
    ]
    lines += [
        "| data set | against | HV ratio | goal | Δm gap (cond - grid) | seed noise "
        "| goal | time ratio | goal |",
        "|---|---|---:|---|---:|---:|---|---:|---|",
    ]
    ok = {True: "met", False: "missed"}
    for r in results:
        for kind, label in (("grid", "grid"), ("grid_film", "FiLM grid")):
            v = r["verdicts"][kind]
            lines.append(
                f"| {r['dataset']} | {label} | {v['hv_ratio_mean']:.3f} | {ok[v['hv_goal_met']]} "
                f"| {v['delta_m_gap']:+.2f} | {v['seed_noise_std']:.2f} "
                f"| {ok[v['delta_m_within_noise']]} | {v['time_ratio_mean']:.2f} "
                f"| {ok[v['time_goal_met']]} |"
            )
    lines.append("")
    for r in results:
        spread = {
            kind: {t: np.mean([x["spread"][kind][t] for x in r["summaries"]]) for t in r["tasks"]}
            for kind in KINDS
        }
        lines += [
            f"## {r['dataset']}",
            "",
            r["describe"],
            "",
            "Reach of each front along each task (max - min test score over the grid "
            "vectors, mean over seeds): "
            + "; ".join(
                f"{t}: grid {spread['grid'][t]:.4f}, FiLM grid "
                f"{spread['grid_film'][t]:.4f}, conditioned "
                f"{spread['conditioned'][t]:.4f}"
                for t in r["tasks"]
            )
            + ".",
            "",
            f"Tasks {r['tasks']} ({r['metric']}); grid: {r['n_grid']} vectors; "
            f"conditioned fit: {r['conditioned_epochs']} epochs, sampling "
            f"{r.get('sampling', 'row')!r}; run {r['wall_s'] / 60:.1f} min.",
            "",
            "| seed | best grid weights | best FiLM grid weights "
            "| best conditioned weights | HV cond / grid | HV cond / FiLM grid |",
            "|---:|---|---|---|---:|---:|",
        ]
        for run, s in zip(r["runs"], r["summaries"], strict=True):
            fmt = lambda w: ", ".join(f"{k} {v:.2f}" for k, v in w.items())  # noqa: E731
            lines.append(
                f"| {run['seed']} | {fmt(s['grid']['best_weights'])} "
                f"| {fmt(s['grid_film']['best_weights'])} "
                f"| {fmt(s['conditioned']['best_weights'])} | {s['hv_ratio_grid']:.3f} "
                f"| {s['hv_ratio_grid_film']:.3f} |"
            )
        lines.append("")
    path_md.write_text("\n".join(lines))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_root")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--quick", action="store_true", help="small subsets, few epochs")
    parser.add_argument(
        "--epoch-factor",
        type=float,
        default=1.0,
        help="epochs of the conditioned fit over the plain fit's",
    )
    parser.add_argument(
        "--sampling",
        choices=("row", "batch"),
        default="row",
        help="WeightConditioned(sampling=...) of the conditioned fit",
    )
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--tag", default="")
    args = parser.parse_args(argv)
    from _common import machine_info

    info = machine_info()
    tic = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [
            pool.submit(
                run_dataset,
                d,
                args.data_root,
                args.seeds,
                args.quick,
                args.epoch_factor,
                args.sampling,
            )
            for d in args.datasets
        ]
        results = [f.result() for f in futures]
    for r in results:
        r["verdicts"] = verdicts(r)
    tag = args.tag or ("_quick" if args.quick else "")
    out = HERE / "results" / f"weight_conditioned{tag}"
    command = "python benchmarks/bench_weight_conditioned.py " + " ".join(argv or sys.argv[1:])
    doc = {
        "command": command,
        "machine": info,
        "wall_s": time.perf_counter() - tic,
        "results": results,
    }
    out.parent.joinpath(out.name + ".json").write_text(json.dumps(doc, indent=1, default=float))
    write_report(results, out.parent / (out.name + ".md"), command, info)
    log(f"wrote {out}.json / .md")
    for r in results:
        log(f"{r['dataset']}: {r['verdicts']}")


if __name__ == "__main__":
    main()
