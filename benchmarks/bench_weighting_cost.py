"""Per-step cost of every weighting strategy relative to equal weighting.

One fixed setup: a ``MultiTaskClassifier`` MLP (sparse TF-IDF input, one
shared hidden layer, one multilabel head per task) on the three GoEmotions
tasks (emotion, ekman, sentiment), or on synthetic sparse data of the same
shape with ``--synthetic``. Every strategy is fitted for ``--epochs`` epochs
on the same rows with the same seed; the per-step time of a fit is the time
from the end of its first epoch to the end of its last (training steps only:
fit's set-up and the first epoch's allocations are excluded), divided by the
number of steps. The
strategies run in a fresh random order in each of ``--repeats`` rounds
(interleaved, so a slow spell of a shared machine hits all of them); each
strategy's fastest round is divided by equal weighting's fastest (medians too).
Times are process CPU time (with one torch thread, the default here), which
other processes on a shared machine disturb far less than wall time; wall
time is recorded too.

Strategies: the loss-based ones (``StaticWeighting``, ``UncertaintyWeighting``,
``DWA``, ``RLW``, ``FAMO``), the gradient-norm ones that are listed with them
but need per-task gradients of shared weights (``GradNorm``: the last shared
weight matrix; ``DBMTL``: every shared parameter), and the gradient
aggregators (PCGrad, GradVac, MGDA, CAGrad, IMTL-G, Nash-MTL, Aligned-MTL,
UPGrad, GradDrop) with ``on="parameters"`` and ``on="representation"``.

Usage::

    .venv/bin/python benchmarks/bench_weighting_cost.py ../shared/data
    .venv/bin/python benchmarks/bench_weighting_cost.py --synthetic --quick
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from _common import machine_info

TASKS = ("emotion", "ekman", "sentiment")
LOSS_BASED = ("equal", "static", "uncertainty", "dwa", "rlw", "famo")
GRAD_NORM = ("gradnorm", "dbmtl")
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
)


def make_strategy(name: str):
    """The strategy of a benchmark name: ``"pcgrad"`` or ``"pcgrad@representation"``."""
    from skmtl import weighting as W

    base, _, on = name.partition("@")
    makers = {
        "equal": lambda: W.EqualWeighting(),
        "static": lambda: W.StaticWeighting({"emotion": 2.0}),
        "uncertainty": lambda: W.UncertaintyWeighting(),
        "dwa": lambda: W.DWA(),
        "rlw": lambda: W.RLW(random_state=0),
        "famo": lambda: W.FAMO(),
        "gradnorm": lambda: W.GradNorm(),
        "dbmtl": lambda: W.DBMTL(),
        "pcgrad": lambda: W.PCGrad(random_state=0),
        "gradvac": lambda: W.GradVac(random_state=0),
        "mgda": lambda: W.MGDA(),
        "cagrad": lambda: W.CAGrad(),
        "imtlg": lambda: W.IMTLG(),
        "nashmtl": lambda: W.NashMTL(),
        "alignedmtl": lambda: W.AlignedMTL(),
        "upgrad": lambda: W.UPGrad(),
        "graddrop": lambda: W.GradDrop(random_state=0),
    }
    strategy = makers[base]()
    if on:
        strategy.set_params(on=on)
    return strategy


def all_names() -> list[str]:
    names = list(LOSS_BASED) + list(GRAD_NORM)
    for g in GRADIENT:
        names += [f"{g}@parameters", f"{g}@representation"]
    return names


def family(name: str) -> str:
    base, _, on = name.partition("@")
    if base in LOSS_BASED:
        return "loss-based"
    if base in GRAD_NORM:
        return "gradient-norm"
    return f"gradient ({on})"


# --------------------------------------------------------------------------- data


def goemotions_data(root: str, n_rows: int, max_features: int, seed: int):
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer

    from skmtl.datasets import load_goemotions

    train = load_goemotions(Path(root) / "goemotions", split="train")
    rng = np.random.RandomState(seed)
    rows = np.sort(rng.choice(len(train.text), min(n_rows, len(train.text)), replace=False))
    text = [train.text[i] for i in rows]
    vec = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=max_features, dtype=np.float32
    )
    X = vec.fit_transform(text).astype(np.float32).tocsr()
    Y = pd.DataFrame({t: list(train.targets[t].iloc[rows]) for t in TASKS})
    return X, Y, "GoEmotions train subset, TF-IDF word 1-2 grams"


def synthetic_data(n_rows: int, max_features: int, seed: int):
    """Sparse rows (16 non-zeros) and three multilabel tasks of 28, 7 and 4 labels."""
    import pandas as pd

    rng = np.random.RandomState(seed)
    X = sp.random(
        n_rows,
        max_features,
        density=16 / max_features,
        format="csr",
        dtype=np.float32,
        random_state=rng,
    )
    Y = {}
    for t, k in zip(TASKS, (28, 7, 4), strict=True):
        W = rng.normal(size=(max_features, k)).astype(np.float32)
        score = np.asarray(X @ W)
        Y[t] = [tuple(np.flatnonzero(r > np.quantile(r, 0.8)).tolist()) for r in score]
    return X, pd.DataFrame(Y), "synthetic sparse (16 non-zeros per row), 28/7/4 labels"


# --------------------------------------------------------------------------- timing


class EpochClock:
    """Marks wall and process CPU time whenever the fitted strategy's ``end_epoch`` runs.

    ``end_epoch`` is called right after each epoch's last step, so the span
    between the first and the last mark is the training steps of epochs
    2..E (the first epoch's allocations excluded) and nothing else of
    ``fit``. The class of the strategy is patched for the duration of one
    fit (``fit`` trains a clone, so an instance patch would not be seen).
    """

    def __init__(self, cls) -> None:
        self.cls = cls
        self.marks: list[tuple[float, float]] = []

    def __enter__(self):
        self.had_own = "end_epoch" in self.cls.__dict__
        original = self.cls.end_epoch

        def end_epoch(strategy, epoch_task_losses):
            self.marks.append((time.perf_counter(), time.process_time()))
            return original(strategy, epoch_task_losses)

        self.original = self.cls.__dict__.get("end_epoch")
        self.cls.end_epoch = end_epoch
        return self

    def __exit__(self, *exc):
        if self.had_own:
            self.cls.end_epoch = self.original
        else:
            del self.cls.end_epoch


def step_time(name: str, X, Y, cfg) -> tuple[float, float, int]:
    """Wall and CPU seconds per training step after the first epoch of one fit, and steps."""
    from skmtl import MultiTaskClassifier

    strategy = make_strategy(name)
    model = MultiTaskClassifier(
        hidden_layer_sizes=(cfg["hidden"],),
        batch_size=cfg["batch_size"],
        max_epochs=cfg["epochs"],
        learning_rate=3e-3,
        random_state=0,
        weighting=strategy,
    )
    with EpochClock(type(strategy)) as clock:
        model.fit(X, Y)
    n_steps = -(-X.shape[0] // cfg["batch_size"])
    (w0, c0), (w1, c1) = clock.marks[0], clock.marks[-1]
    timed = (len(clock.marks) - 1) * n_steps
    return (w1 - w0) / timed, (c1 - c0) / timed, n_steps


def fixed_overhead(names: list[str], repeats: int = 5, steps: int = 2000) -> dict[str, float]:
    """Microseconds of CPU per step that a strategy adds to equal weighting, in isolation.

    A step on a tiny network (a 4 x 4 trunk, three scalar losses): forward,
    ``strategy.backward``, no optimiser. What it costs beyond equal weighting
    is the strategy's own fixed work per step (its small tensor operations),
    which does not grow with the model; the fit-level ratios above cannot
    resolve a few percent on a shared machine, this can. Minimum over
    ``repeats`` blocks of ``steps`` steps.
    """
    from torch import nn

    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.trunk = nn.Linear(4, 4)
            self.weighting = None
            self.representation = None

        def shared_parameters(self):
            return list(self.trunk.parameters())

    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    present = torch.ones(3, dtype=torch.bool)
    tw = torch.ones(3)
    per_step = {}
    for name in names:
        strategy = make_strategy(name)
        net = Tiny()
        net.weighting = strategy.init(list(TASKS))

        def step(strategy=strategy, net=net):
            h = net.trunk(x)
            losses = torch.stack([h[:, i].pow(2).mean() for i in range(3)])
            strategy.backward(losses, present, tw, net.weighting, net)

        for _ in range(200):
            step()
        best = float("inf")
        for _ in range(repeats):
            tic = time.process_time()
            for _ in range(steps):
                step()
            best = min(best, (time.process_time() - tic) / steps)
        per_step[name] = best
    return {n: 1e6 * (t - per_step["equal"]) for n, t in per_step.items()}


def markdown(result: dict) -> str:
    s, m = result["settings"], result["machine"]
    lines = [
        "# Per-step cost of the weighting strategies (relative to equal weighting)",
        "",
        f"Machine: {m['cpu_count']} CPUs, torch {m['torch']} ({m['torch_num_threads']} "
        f"thread(s)), skmtl {m['skmtl']}, Python {m['python']}.",
        "",
        f"Setup: {s['data']}; {s['n_rows']} rows x {s['n_features']} features, 3 multilabel "
        f"tasks (28, 7, 4 labels); `MultiTaskClassifier` with one shared {s['hidden']}-unit "
        f"layer, batch {s['batch_size']} ({s['n_steps']} steps per epoch), {s['epochs']} "
        f"epochs per fit, epochs 2..{s['epochs']} timed (first epoch excluded). "
        f"{s['repeats']} interleaved rounds (random order per round). Load average at "
        f"start / end: {result['loadavg_start'][0]:.1f} / {result['loadavg_end'][0]:.1f}.",
        "",
        f"Equal weighting: {1e3 * result['equal_cpu_step_s']:.2f} ms CPU "
        f"({1e3 * result['equal_wall_step_s']:.2f} ms wall) per step.",
        "",
        "| strategy | family | CPU ms per step | CPU time / equal | median ratio "
        "| wall time / equal |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, r in result["results"].items():
        lines.append(
            f"| {name} | {r['family']} | {1e3 * r['cpu_min_s']:.2f} | {r['cpu_ratio']:.3f} | "
            f"{r['cpu_median_ratio']:.3f} | {r['wall_ratio']:.2f} |"
        )
    overhead = result.get("fixed_overhead_us") or {}
    if overhead:
        eq = result["equal_cpu_step_s"]
        lines += [
            "",
            "Fixed per-step overhead of the loss-based strategies, measured in isolation "
            "(`fixed_overhead`: a tiny network, thousands of steps, CPU time; the "
            "fit-level ratios above are too noisy on a shared machine to resolve a few "
            "percent):",
            "",
            "| strategy | CPU us per step over equal | share of an equal step here |",
            "|---|---:|---:|",
        ]
        for name, us in overhead.items():
            if name != "equal":
                lines.append(f"| {name} | {us:+.0f} | {us / (1e6 * eq):+.1%} |")
    lines += [
        "",
        "`name@representation`: the same method on the gradients with respect to the shared "
        'representation (`on="representation"`). CPU time is the process CPU time of the '
        f"timed epochs ({s['threads']} torch thread(s)), which other processes on a shared "
        "machine disturb much less than wall time. Each strategy's time is its fastest "
        "round (noise only adds time); `median ratio` compares the medians instead, and the "
        "gap between the two shows the measurement noise. Wall time / equal also compares "
        "the fastest rounds.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_root", nargs="?", help="directory holding goemotions/")
    ap.add_argument("--synthetic", action="store_true", help="synthetic data, no data root")
    ap.add_argument("--rows", type=int, default=8192)
    ap.add_argument("--max-features", type=int, default=20000)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=3, help="epochs per fit (>= 2)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--strategies", help="comma-separated subset of the names")
    ap.add_argument("--quick", action="store_true", help="2048 rows, 2 rounds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/weighting_cost.json")
    args = ap.parse_args(argv)
    if not args.synthetic and not args.data_root:
        ap.error("give DATA_ROOT or --synthetic")
    if args.quick:
        args.rows, args.repeats = 2048, 2
    if args.epochs < 2:
        ap.error("--epochs must be >= 2 (the first epoch is not timed)")
    torch.set_num_threads(args.threads)

    if args.synthetic:
        X, Y, what = synthetic_data(args.rows, args.max_features, args.seed)
    else:
        X, Y, what = goemotions_data(args.data_root, args.rows, args.max_features, args.seed)
    names = args.strategies.split(",") if args.strategies else all_names()
    if "equal" not in names:
        names = ["equal", *names]
    cfg = {"hidden": args.hidden, "batch_size": args.batch_size, "epochs": args.epochs}

    load_start = os.getloadavg()
    step_time("equal", X, Y, {**cfg, "epochs": 2})  # warm-up: first torch allocations
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    n_steps = 0
    rng = np.random.RandomState(args.seed)
    tic = time.perf_counter()
    for r in range(args.repeats):
        for i in rng.permutation(len(names)):
            w, c, n_steps = step_time(names[i], X, Y, cfg)
            wall[names[i]].append(w)
            cpu[names[i]].append(c)
        print(f"round {r + 1}/{args.repeats} done ({time.perf_counter() - tic:.0f} s)", flush=True)

    # Noise on a shared machine only ever adds time: the fastest round of each
    # strategy is the primary estimate (as timeit advises), the median the second.
    eq_min, eq_med = min(cpu["equal"]), statistics.median(cpu["equal"])
    eq_wall = min(wall["equal"])
    results = {}
    for n in names:
        best, med = min(cpu[n]), statistics.median(cpu[n])
        results[n] = {
            "family": family(n),
            "cpu_min_s": best,
            "cpu_ratio": best / eq_min,
            "cpu_median_s": med,
            "cpu_median_ratio": med / eq_med,
            "wall_ratio": min(wall[n]) / eq_wall,
            "cpu_runs_s": cpu[n],
            "wall_runs_s": wall[n],
        }
        print(
            f"{n:28s} cpu {1e3 * best:8.2f} ms x{best / eq_min:.3f} "
            f"(median x{med / eq_med:.3f})   wall x{min(wall[n]) / eq_wall:.3f}"
        )
    loss_based = [n for n in names if n in LOSS_BASED]
    overhead = fixed_overhead(loss_based) if "equal" in loss_based else {}
    for n, us in overhead.items():
        print(f"{n:28s} +{us:.0f} us per step ({us / (1e6 * eq_min):.1%} of an equal step)")
    result = {
        "settings": {
            "data": what,
            "n_rows": int(X.shape[0]),
            "n_features": int(X.shape[1]),
            "hidden": args.hidden,
            "batch_size": args.batch_size,
            "n_steps": n_steps,
            "epochs": args.epochs,
            "repeats": args.repeats,
            "threads": args.threads,
            "seed": args.seed,
        },
        "machine": machine_info(),
        "loadavg_start": list(load_start),
        "loadavg_end": list(os.getloadavg()),
        "equal_cpu_step_s": eq_min,
        "fixed_overhead_us": overhead,
        "equal_wall_step_s": eq_wall,
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    out.with_suffix(".md").write_text(markdown(result))
    print(f"wrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
