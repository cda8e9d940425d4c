"""Every sharing architecture against single-task models, side by side.

One run per dataset:

* ``--dataset goemotions``: the three GoEmotions tasks (``emotion`` 28 labels,
  ``ekman`` 7, ``sentiment`` 4; multilabel), TF-IDF (word 1-2 grams, 20k
  features) and a :class:`skmtl.MultiTaskClassifier` MLP with TWO shared
  hidden layers, ``hidden_layer_sizes=(256, 128)`` (ReLU), which are the
  blocks the architectures share; AdamW lr 3e-3, batch 512, 5 epochs, the
  whole train split (43,410 comments); metric: macro-F1 over each task's label
  columns at threshold 0.5.
* ``--dataset ewt``: UD English-EWT UPOS and UNER NER, a
  :class:`skmtl.estimators.MultiTaskTagger` with a CNN
  :class:`~skmtl.encoders.TextEncoder` (``char_dim=16``, ``depth=4``: the four
  contextual blocks are what the architectures share; the hashed embeddings
  below them are shared by every architecture), batch 32, 2 epochs,
  ``weight_averaging=0.999`` (pinned), a random 6,000-sentence subset of the
  12,543 train sentences (``--max-train``, as ``bench_weighting.py``; the
  whole split takes about 2x as long);
  metrics: UPOS token accuracy and NER strict span micro-F1. The NER *train*
  tags are the pre-release UNER draft (see the data's PROVENANCE.md): scores
  are for comparing architectures here, not UNER results.

Rows of the table (``skmtl.architectures``; ``--architectures`` picks a subset):

* ``hard``: :class:`HardSharing` (every task reads the top block);
* ``hierarchical``: :class:`Hierarchical` (1-based block each task reads;
  GoEmotions ``{"sentiment": 1, "ekman": 1, "emotion": 2}``: the coarse tasks
  from the first layer, the 28 fine emotions from the top; EWT
  ``{"upos": 1, "ner": 4}``: POS low, NER at the top, as Søgaard and Goldberg
  (2016); ``--hierarchical upos=2,ner=4`` changes it);
* ``cross_stitch``: :class:`CrossStitch` ``(self_weight=0.9, learn_units=True)``,
  one column of blocks per task;
* ``mmoe``: :class:`MMoE` ``(n_experts=4)``;
* ``cgc``: :class:`CGC` ``(n_shared_experts=2, n_task_experts=1)``;
* ``ple``: :class:`PLE` ``(n_levels=2, n_shared_experts=2, n_task_experts=1)``;
* ``dselect_k``: :class:`DSelectK` ``(n_experts=4, k=2, gamma=1.0)``;
* ``single-task``: one hard-sharing model per task with the same settings and
  seed (the Δm reference).

Experts and cross-stitch columns are copies of *all* the shared blocks, so on
GoEmotions each copy holds its own 20k x 256 first layer: the parameter
count and the fit time grow with the number of copies.

Reported, per row: each task's test score, Δm against the single-task models
(:func:`skmtl.diagnostics.relative_gain`: the mean relative gain over tasks,
in %, against the same seed's single-task models), the fit time relative to
hard sharing fitted with the same seed (process CPU time of ``fit``, one
torch thread by default; the wall times are in the JSON) and the parameter
count (``sum(p.numel() for p in model.module_.parameters())``; single-task:
the sum over the task models). With several seeds (``--seeds 0 1 2``,
default) every number is a mean over seeds ± the standard deviation. The fits
of a seed run in a random order (single-task fits included) so that machine
noise is spread over the rows; one small untimed fit comes first so that no
timed fit pays the process's one-time costs.

Time on a 2-core machine with one torch thread: about 10-15 minutes for
GoEmotions and 20-25 minutes for EWT (3 seeds; more when other processes
share the cores). ``--quick`` is a smoke run of 1-2 minutes: GoEmotions 12,000
train / 2,000 test comments, 5,000 features, batch 128, 4 epochs; EWT 600
train / 300 test sentences, 2 epochs; seeds 0 and 1; written to
``*_quick.{json,md}``.

Usage::

    .venv/bin/python benchmarks/bench_architectures.py ../shared/data --dataset goemotions
    .venv/bin/python benchmarks/bench_architectures.py ../shared/data --dataset ewt
    .venv/bin/python benchmarks/bench_architectures.py ../shared/data --dataset ewt --quick
    .venv/bin/python benchmarks/bench_architectures.py ../shared/data --dataset goemotions \\
        --architectures hard,mmoe,ple --seeds 0
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from _common import EWTTagging, GoEmotionsTfidf, machine_info

ARCHITECTURES = ("hard", "hierarchical", "cross_stitch", "mmoe", "cgc", "ple", "dselect_k")
SINGLE = "single-task"
# --architectures accepts these spellings too (lower case, without "_" and "-").
ALIASES = {
    "hardsharing": "hard",
    "crossstitch": "cross_stitch",
    "dselectk": "dselect_k",
}

# Per dataset: the defaults of --epochs / --max-train, and of --quick.
DEFAULTS = {
    "goemotions": {"epochs": 5, "max_train": None, "batch_size": 512, "max_features": 20000},
    "ewt": {"epochs": 2, "max_train": 6000, "batch_size": 32},
}
# --quick: small subsets, and for GoEmotions smaller batches (enough steps to learn
# something in a few epochs) and fewer TF-IDF features.
QUICK = {
    "goemotions": {
        "epochs": 4,
        "max_train": 12000,
        "eval_rows": 2000,
        "batch_size": 128,
        "max_features": 5000,
    },
    "ewt": {"epochs": 2, "max_train": 600, "eval_rows": 300, "batch_size": 32},
}


def canonical(name: str) -> str:
    key = name.strip().lower().replace("-", "").replace("_", "")
    key = ALIASES.get(key, key)
    for a in ARCHITECTURES:
        if a.replace("_", "") == key.replace("_", ""):
            return a
    raise SystemExit(f"unknown architecture {name!r}; choose from {', '.join(ARCHITECTURES)}")


def make_architecture(name: str, data):
    """A fresh architecture object for a row name."""
    from skmtl import architectures as A

    makers = {
        "hard": lambda: A.HardSharing(),
        "hierarchical": lambda: A.Hierarchical(layers=dict(data.hierarchical_layers)),
        "cross_stitch": lambda: A.CrossStitch(self_weight=0.9, learn_units=True),
        "mmoe": lambda: A.MMoE(n_experts=4),
        "cgc": lambda: A.CGC(n_shared_experts=2, n_task_experts=1),
        "ple": lambda: A.PLE(n_levels=2, n_shared_experts=2, n_task_experts=1),
        "dselect_k": lambda: A.DSelectK(n_experts=4, k=2, gamma=1.0),
    }
    return makers[name]()


def describe_architecture(architecture) -> str:
    """``MMoE(n_experts=4)``: the class and every parameter (sklearn's repr hides defaults)."""
    params = ", ".join(f"{k}={v!r}" for k, v in architecture.get_params(deep=False).items())
    return f"{type(architecture).__name__}({params})"


def parse_layers(text: str) -> dict[str, int]:
    """``"upos=1,ner=4"`` -> ``{"upos": 1, "ner": 4}``."""
    out = {}
    for item in text.split(","):
        task, _, layer = item.partition("=")
        out[task.strip()] = int(layer)
    return out


# --------------------------------------------------------------------------- datasets


class GoEmotions(GoEmotionsTfidf):
    hidden_layer_sizes = (256, 128)
    hierarchical_layers = {"sentiment": 1, "ekman": 1, "emotion": 2}

    def __init__(self, root: str, args) -> None:
        super().__init__(
            root,
            train_rows=args.max_train,
            max_features=args.max_features,
            eval_rows=args.eval_rows,
        )
        self.epochs = args.epochs
        self.batch_size = args.batch_size
        if args.hierarchical:
            self.hierarchical_layers = parse_layers(args.hierarchical)
        n = self.n_rows
        cap = (
            f", a random subset of the {self.n_available['train']} of the train split"
            if n["train"] < self.n_available["train"]
            else ""
        )
        evals = " (random subsets of dev / test)" if n["test"] < self.n_available["test"] else ""
        self.describe = (
            f"GoEmotions: {n['train']} train comments{cap} / {n['test']} test{evals}; "
            f"TF-IDF word 1-2 grams, {self.n_features} features (fit on train). Model: "
            "MultiTaskClassifier, two shared ReLU layers hidden_layer_sizes=(256, 128) (the "
            "blocks the architectures share), a linear multilabel head per task, AdamW lr "
            f"3e-3, batch {self.batch_size}, {self.epochs} epochs. Metric: macro-F1 over each "
            "task's label columns at threshold 0.5 (zero_division=0)."
        )
        self.notes = []

    def estimator(self, architecture, seed):
        from skmtl import MultiTaskClassifier

        return MultiTaskClassifier(
            hidden_layer_sizes=self.hidden_layer_sizes,
            learning_rate=3e-3,
            batch_size=self.batch_size,
            max_epochs=self.epochs,
            random_state=seed,
            architecture=architecture,
        )


class EWT(EWTTagging):
    depth = 4
    weight_averaging = 0.999
    hierarchical_layers = {"upos": 1, "ner": 4}

    def __init__(self, root: str, args) -> None:
        super().__init__(root, train_rows=args.max_train, eval_rows=args.eval_rows)
        self.epochs = args.epochs
        self.batch_size = args.batch_size
        if args.hierarchical:
            self.hierarchical_layers = parse_layers(args.hierarchical)
        n, w = self.n_rows, self.n_words
        cap = (
            f", a random subset of the {self.n_available['train']} of the train split"
            if n["train"] < self.n_available["train"]
            else ""
        )
        evals = " (a random subset)" if n["test"] < self.n_available["test"] else ""
        self.describe = (
            f"UD English-EWT r2.9 + UNER: {n['train']} train sentences ({w['train']} words"
            f"{cap}) / {n['test']} test sentences{evals} ({w['test']} words); tasks upos + "
            f"ner. Model: MultiTaskTagger, TextEncoder(architecture='cnn', char_dim=16, "
            f"depth={self.depth}) (defaults otherwise; its {self.depth} contextual blocks are "
            "what the architectures share, the hashed embeddings below them are shared by "
            f"all), a linear softmax head per task, batch {self.batch_size}, "
            f"{self.epochs} epochs, weight_averaging={self.weight_averaging}. Metrics: UPOS "
            "token accuracy, NER strict span micro-F1 (skmtl._spans)."
        )

    def estimator(self, architecture, seed):
        from skmtl.encoders import TextEncoder
        from skmtl.estimators import MultiTaskTagger

        return MultiTaskTagger(
            encoder=TextEncoder(architecture="cnn", char_dim=16, depth=self.depth),
            max_epochs=self.epochs,
            batch_size=self.batch_size,
            random_state=seed,
            architecture=architecture,
            crf=None,
            # pinned (the tagger's default today) so that the results stay reproducible
            weight_averaging=self.weight_averaging,
        )


# --------------------------------------------------------------------------- runs


def git_state() -> dict:
    """The commit and the modified tracked files of the working tree (None outside git)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    out = {}
    for key, cmd in (
        ("commit", ["git", "rev-parse", "HEAD"]),
        ("dirty_files", ["git", "status", "--porcelain", "--untracked-files=no"]),
    ):
        try:
            out[key] = subprocess.run(
                cmd, cwd=root, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            out[key] = None
    if out["dirty_files"] is not None:
        out["dirty_files"] = out["dirty_files"].splitlines()
    return out


def fit_and_score(data, name: str, seed: int, tasks=None) -> dict:
    """Fit one model (``name``'s architecture; hard sharing for ``tasks``), score on test."""
    X, Y = data.fit_data(tasks)
    architecture = make_architecture("hard" if tasks else name, data)
    model = data.estimator(architecture, seed)
    gc.collect()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    model.fit(X, Y)
    fit_cpu = time.process_time() - cpu0
    fit_wall = time.perf_counter() - wall0
    n_params = int(sum(p.numel() for p in model.module_.parameters()))
    tic = time.perf_counter()
    scores = data.scores(model, tasks=tasks)
    predict_wall = time.perf_counter() - tic
    try:
        epoch_wall = [float(d) for d in model.history_[:, "dur"]]
    except Exception:  # noqa: BLE001 - an informational extra
        epoch_wall = None
    return {
        "architecture": describe_architecture(architecture),
        "scores": scores,
        "fit_cpu_s": fit_cpu,
        "fit_wall_s": fit_wall,
        "predict_wall_s": predict_wall,
        "epoch_wall_s": epoch_wall,
        "n_params": n_params,
    }


def warm_up(data) -> None:
    """One small untimed fit, so that no timed fit pays the process's one-time costs."""
    X, Y = data.fit_data()
    n = min(256, len(Y))
    X = X[:n] if hasattr(X, "shape") else list(X)[:n]
    model = data.estimator(make_architecture("hard", data), 0).set_params(max_epochs=1)
    model.fit(X, Y.iloc[:n])
    data.scores(model)


def merge_single(parts: list[dict]) -> dict:
    """The single-task row of a seed from its per-task fits (scores joined, costs summed)."""
    out = {"scores": {}, "architecture": parts[0]["architecture"]}
    for p in parts:
        out["scores"].update(p["scores"])
    for key in ("fit_cpu_s", "fit_wall_s", "predict_wall_s", "n_params"):
        out[key] = sum(p[key] for p in parts)
    out["per_task"] = parts
    return out


def mean_std(values) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values))


def summarise(runs: dict, tasks) -> dict:
    """Mean and std over seeds of scores, Δm (%) and the fit-time ratios to hard sharing."""
    from skmtl.diagnostics import relative_gain

    single = runs[SINGLE]
    hard = runs["hard"]
    seeds = sorted(single)
    out = {}
    for name, per_seed in runs.items():
        scores = {t: mean_std([per_seed[s]["scores"][t] for s in seeds]) for t in tasks}
        dm = [
            100 * relative_gain(per_seed[s]["scores"], single[s]["scores"])["delta_m"]
            for s in seeds
        ]
        cpu = [per_seed[s]["fit_cpu_s"] / hard[s]["fit_cpu_s"] for s in seeds]
        wall = [per_seed[s]["fit_wall_s"] / hard[s]["fit_wall_s"] for s in seeds]
        params = sorted({per_seed[s]["n_params"] for s in seeds})
        out[name] = {
            "architecture": per_seed[seeds[0]]["architecture"],
            "scores": {t: v[0] for t, v in scores.items()},
            "scores_std": {t: v[1] for t, v in scores.items()},
            "delta_m_pct": mean_std(dm)[0],
            "delta_m_pct_std": mean_std(dm)[1],
            "delta_m_pct_runs": dm,
            "fit_cpu_ratio": mean_std(cpu)[0],
            "fit_cpu_ratio_std": mean_std(cpu)[1],
            "fit_cpu_ratio_runs": cpu,
            "fit_wall_ratio": mean_std(wall)[0],
            "fit_wall_ratio_std": mean_std(wall)[1],
            "fit_wall_ratio_runs": wall,
            "fit_cpu_s": float(np.mean([per_seed[s]["fit_cpu_s"] for s in seeds])),
            "fit_wall_s": float(np.mean([per_seed[s]["fit_wall_s"] for s in seeds])),
            "predict_wall_s": float(np.mean([per_seed[s]["predict_wall_s"] for s in seeds])),
            "n_params": params[0] if len(params) == 1 else params,
        }
    return out


def _pm(mean: float, std: float, n_seeds: int, fmt: str) -> str:
    text = format(mean, fmt)
    return text + (f" ± {std:{fmt.lstrip('+')}}" if n_seeds > 1 else "")


def markdown(result: dict) -> str:
    s, m = result["settings"], result["machine"]
    tasks = s["tasks"]
    n_seeds = len(s["seeds"])
    title = {"goemotions": "GoEmotions (3 tasks)", "ewt": "EWT (UPOS + NER)"}[s["dataset"]]
    pm = " ± std" if n_seeds > 1 else ""
    summary = result["summary"]
    hard = summary["hard"]
    lines = [
        f"# Sharing architectures on {title}" + (" (quick smoke run)" if s["quick"] else ""),
        "",
        s["describe"],
        "",
        f"Seeds: {', '.join(map(str, s['seeds']))}"
        f"{' (every number a mean over seeds ± std)' if n_seeds > 1 else ''}. "
        f"Training cap (`--max-train`): {s['max_train'] or 'none'} "
        f"({s['n_rows']['train']} of {s['n_available']['train']} used). "
        f"Machine: {m['cpu_count']} CPUs, torch {m['torch']} ({m['torch_num_threads']} "
        f"thread(s)), skmtl {m['skmtl']}. Wall time of the whole run: "
        f"{result['wall_s'] / 60:.1f} min. Load average at start / end: "
        f"{result['loadavg_start'][0]:.1f} / {result['loadavg_end'][0]:.1f}.",
        "",
        "| architecture | "
        + " | ".join(f"{t} ({s['metrics'][t]})" for t in tasks)
        + f" | Δm % vs single-task{pm} | fit CPU time / hard{pm} | parameters |",
        "|---|" + "---:|" * (len(tasks) + 3),
    ]
    order = [SINGLE, *s["architectures"]]
    for name in order:
        r = summary[name]
        label = "single-task (hard, one model per task)" if name == SINGLE else name
        dm = (
            "0 (reference)"
            if name == SINGLE
            else _pm(r["delta_m_pct"], r["delta_m_pct_std"], n_seeds, "+.2f")
        )
        params = r["n_params"]
        params = f"{params:,}" if isinstance(params, int) else " / ".join(f"{p:,}" for p in params)
        lines.append(
            f"| {label} | "
            + " | ".join(_pm(r["scores"][t], r["scores_std"][t], n_seeds, ".4f") for t in tasks)
            + f" | {dm} | {_pm(r['fit_cpu_ratio'], r['fit_cpu_ratio_std'], n_seeds, '.2f')}"
            + f" | {params} |"
        )
    lines += [
        "",
        "Architectures: "
        + "; ".join(f"`{a}` = `{summary[a]['architecture']}`" for a in s["architectures"])
        + f". `single-task`: one `{summary[SINGLE]['architecture']}` model per task, same "
        "settings and seed.",
        "Δm: `skmtl.diagnostics.relative_gain` of the row's test scores against the "
        "single-task models' of the same seed (mean relative gain over the tasks, in %; "
        "> 0: better than single-task), then mean over seeds.",
        f"Fit CPU time / hard: process CPU time of `fit` ({m['torch_num_threads']} torch "
        "thread(s)) over that of hard sharing with the same seed (single-task: the sum "
        f"of its per-task fits); hard sharing took {hard['fit_cpu_s']:.1f} s of CPU "
        f"({hard['fit_wall_s']:.1f} s wall) per fit here. CPU time is much less disturbed "
        "than wall time by other processes on a shared machine; the wall-time ratios, "
        "the absolute times and the predict times are in the JSON.",
        "Parameters: `sum(p.numel() for p in model.module_.parameters())` of the fitted "
        "model (heads included; single-task: the sum over its models). Experts and "
        "cross-stitch columns are copies of all the shared blocks.",
    ]
    for note in s.get("notes", []):
        lines.append(note)
    lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_root", help="folder holding goemotions/, ud-english-ewt/, ...")
    ap.add_argument("--dataset", choices=tuple(DEFAULTS), required=True)
    ap.add_argument(
        "--seeds", type=int, nargs="+", default=None, help="default 0 1 2 (--quick: 0 1)"
    )
    ap.add_argument(
        "--architectures",
        default=None,
        help=f"comma-separated subset of {','.join(ARCHITECTURES)} (hard is always run)",
    )
    ap.add_argument(
        "--max-train",
        type=int,
        default=None,
        help="cap on training rows (goemotions: none, i.e. all 43,410) or sentences "
        "(ewt: 6000 of 12,543), a random subset; 0: no cap",
    )
    ap.add_argument("--epochs", type=int, default=None, help="goemotions: 5, ewt: 2")
    ap.add_argument(
        "--max-features", type=int, default=None, help="goemotions TF-IDF (default 20000)"
    )
    ap.add_argument(
        "--hierarchical",
        default=None,
        help='task=layer list for Hierarchical, e.g. "upos=2,ner=4" (default: see docstring)',
    )
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: small train/test subsets, 1-2 epochs, seeds 0 1; writes *_quick.{json,md}",
    )
    ap.add_argument("--out", default=None, help="JSON path (the .md goes next to it)")
    args = ap.parse_args(argv)

    defaults = dict(DEFAULTS[args.dataset])
    args.eval_rows = None
    if args.quick:
        defaults.update(QUICK[args.dataset])
        args.eval_rows = defaults["eval_rows"]
    if args.max_train is None:
        args.max_train = defaults["max_train"]
    args.max_train = args.max_train or None  # 0: no cap
    args.epochs = args.epochs or defaults["epochs"]
    args.batch_size = defaults["batch_size"]
    args.max_features = args.max_features or defaults.get("max_features")
    seeds = args.seeds if args.seeds is not None else ([0, 1] if args.quick else [0, 1, 2])
    names = (
        [canonical(a) for a in args.architectures.split(",") if a.strip()]
        if args.architectures
        else list(ARCHITECTURES)
    )
    names = list(dict.fromkeys(["hard", *names]))  # hard first: the time reference
    torch.set_num_threads(args.threads)
    out = Path(
        args.out
        or f"benchmarks/results/architectures_{args.dataset}{'_quick' if args.quick else ''}.json"
    )

    load_start = os.getloadavg()
    t0 = time.perf_counter()
    data = (GoEmotions if args.dataset == "goemotions" else EWT)(args.data_root, args)
    print(data.describe, flush=True)
    warm_up(data)

    runs: dict[str, dict] = {n: {} for n in [SINGLE, *names]}
    rng = np.random.RandomState(0)
    for seed in seeds:
        jobs = [(SINGLE, t) for t in data.tasks] + [(n, None) for n in names]
        jobs = [jobs[i] for i in rng.permutation(len(jobs))]  # interleave machine noise
        single_parts = {}
        for name, task in jobs:
            r = fit_and_score(data, name, seed, tasks=[task] if task else None)
            if task:
                single_parts[task] = r
            else:
                runs[name][seed] = r
            label = f"{name} {task}" if task else name
            print(
                f"[{time.strftime('%H:%M:%S')}] seed {seed} {label:22s}"
                + " ".join(f"{t} {v:.4f}" for t, v in r["scores"].items())
                + f" | fit {r['fit_cpu_s']:.1f} s CPU, {r['fit_wall_s']:.1f} s wall"
                + f" | {r['n_params']:,} parameters",
                flush=True,
            )
        runs[SINGLE][seed] = merge_single([single_parts[t] for t in data.tasks])

    summary = summarise(runs, data.tasks)
    result = {
        "settings": {
            "dataset": args.dataset,
            "describe": data.describe,
            "tasks": list(data.tasks),
            "metrics": data.metric,
            "architectures": names,
            "hierarchical_layers": data.hierarchical_layers,
            "seeds": seeds,
            "epochs": data.epochs,
            "max_train": args.max_train,
            "eval_rows": args.eval_rows,
            "n_rows": data.n_rows,
            "n_available": data.n_available,
            "max_features": args.max_features,
            "batch_size": args.batch_size,
            "threads": args.threads,
            "quick": args.quick,
            "notes": data.notes,
            "load_warnings": getattr(data, "load_warnings", []),
        },
        "machine": machine_info("pandas", threads=args.threads, git=git_state()),
        "loadavg_start": list(load_start),
        "loadavg_end": list(os.getloadavg()),
        "wall_s": time.perf_counter() - t0,
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
