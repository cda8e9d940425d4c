"""Transfer to a low-resource task: learning curves of a target task with few labels.

The target task keeps only a fraction of its training labels (1 %, 5 %, 20 %,
100 %; a random subset per seed, the same rows for every method of that seed);
the auxiliary tasks keep all of theirs. Side by side, in one run per data set:

* ``single-task``: the target alone, on its few labelled rows;
* ``multi-task``: one model on every row, the target's other labels missing;
* ``add_tasks (frozen)`` / ``add_tasks (fine-tuned)``: a model trained on the
  auxiliary tasks, then :meth:`add_tasks` with the target's few labels (trunk
  frozen, or fine-tuned with the new head);
* ``multi-task + <strategy>``: the multi-task model with the two best
  weighting strategies of ``bench_weighting.py`` on that data set;
* ``multi-task + tuned static``: the target's ``task_weights`` chosen on dev
  among {1, 2, 4, 8} (seed 0, per fraction), then fitted for every seed;
* ``linear (tuned)``: a strong non-multi-task baseline on the few labels:
  TF-IDF + logistic regression (GoEmotions, one-vs-rest), TF-IDF + ridge
  (EmoBank), a feature-based logistic-regression tagger (EWT NER: word,
  affixes, shape and the neighbouring words), its ``C`` / ``alpha`` chosen on
  the dev subset.

Data sets: GoEmotions (target: the 28 emotions, macro-F1; auxiliary: ekman and
sentiment), EWT (target: NER span F1; auxiliary: UPOS and XPOS; a random subset
of the train split, see ``--train-rows``), EmoBank (targets: arousal and
dominance, Pearson r, their mean is the target score; auxiliary: valence).

Every neural model may take up to the same number of optimiser steps (the
steps of ``epochs`` passes over the whole train split), early-stopped on a dev
subset holding the target's labels only (the same fraction of the dev split,
at least 50 rows; a low-resource user has a small dev set too), restoring the
best epoch. Test scores are on the whole test split.

Usage::

    .venv/bin/python benchmarks/bench_transfer.py ../shared/data --dataset goemotions
    .venv/bin/python benchmarks/bench_transfer.py ../shared/data --dataset ewt
    .venv/bin/python benchmarks/bench_transfer.py ../shared/data --dataset emobank
    .venv/bin/python benchmarks/bench_transfer.py --plot   # docs/images/transfer_curves.png
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _common import EWTTagging, GoEmotionsTfidf, machine_info

FRACTIONS = (0.01, 0.05, 0.2, 1.0)
STATIC_GRID = (1.0, 2.0, 4.0, 8.0)
MIN_DEV = 50
RESULTS = Path("benchmarks/results")
log = functools.partial(print, flush=True)  # progress lines, visible in a log file


# --------------------------------------------------------------------------- data sets


class GoEmotions:
    name, target, aux = "goemotions", ["emotion"], ["ekman", "sentiment"]
    metric = "emotion macro-F1"
    epochs, batch_size = 5, 512
    strategies = ("dbmtl", "imtlg")

    def __init__(self, root, args):
        self.d = GoEmotionsTfidf(root, train_rows=args.train_rows)
        self.X, self.Y = self.d.X, self.d.Y

    def estimator(self, seed, **kw):
        from skmtl import MultiTaskClassifier

        # min_labels=1: every comment gets at least its most probable label (most have
        # one), so a model with few labels is not scored on empty predictions and early
        # stopping sees its progress; the linear baseline uses the same rule.
        return MultiTaskClassifier(
            hidden_layer_sizes=(256,),
            learning_rate=3e-3,
            batch_size=self.batch_size,
            random_state=seed,
            min_labels=1,
            **kw,
        )

    def score(self, model):
        return self.d.score_predictions(model.predict(self.X["test"]), self.Y["test"], ["emotion"])[
            "emotion"
        ]

    def linear(self, rows, dev_rows):
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import f1_score
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.preprocessing import MultiLabelBinarizer

        labels = self.d.labels["emotion"]
        mlb = MultiLabelBinarizer(classes=labels).fit([labels])
        Ytr = mlb.transform(self.Y["train"]["emotion"].iloc[rows])
        Ydev = mlb.transform(self.Y["dev"]["emotion"].iloc[dev_rows])
        best = None
        for C in (1.0, 4.0, 16.0, 64.0):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # labels absent from a small subset
                clf = OneVsRestClassifier(LogisticRegression(C=C, solver="liblinear"))
                clf.fit(self.X["train"][rows], Ytr)
            dev = f1_score(
                Ydev,
                _at_least_one(clf, self.X["dev"][dev_rows]),
                average="macro",
                zero_division=0,
            )
            if best is None or dev > best[0]:
                best = (dev, C, clf)
        test = f1_score(
            mlb.transform(self.Y["test"]["emotion"]),
            _at_least_one(best[2], self.X["test"]),
            average="macro",
            zero_division=0,
        )
        return float(test), {"C": best[1]}


def _at_least_one(clf, X):
    """One-vs-rest predictions at 0.5, with the most probable label where none reaches it."""
    proba = clf.predict_proba(X)
    pred = (proba >= 0.5).astype(int)
    none = pred.sum(axis=1) == 0
    pred[none, np.argmax(proba[none], axis=1)] = 1
    return pred


class EWT:
    name, target, aux = "ewt", ["ner"], ["upos", "xpos"]
    metric = "NER span F1"
    tune_metric = "span_f1"  # the static weight is chosen on the dev subset's span F1
    epochs, batch_size = 2, 32
    strategies = ("mgda@representation", "famo")

    def __init__(self, root, args):
        class Tagging(EWTTagging):
            tasks = ("upos", "xpos", "ner")

        self.d = Tagging(root, train_rows=args.train_rows or 4000)
        self.X, self.Y = self.d.X, self.d.Y

    def estimator(self, seed, **kw):
        from skmtl import MultiTaskTagger
        from skmtl.encoders import TextEncoder

        return MultiTaskTagger(
            encoder=TextEncoder(architecture="cnn", char_dim=16),
            batch_size=self.batch_size,
            random_state=seed,
            weight_averaging=0.0,
            **kw,
        )

    def score(self, model):
        return self.d.score_predictions(model.predict(self.X["test"]), self.Y["test"], ["ner"])[
            "ner"
        ]

    @staticmethod
    def _features(sentence):
        out = []
        for i, w in enumerate(sentence):
            f = {
                "w": w.lower(),
                "p3": w[:3].lower(),
                "s3": w[-3:].lower(),
                "s2": w[-2:].lower(),
                "title": w.istitle(),
                "upper": w.isupper(),
                "digit": any(c.isdigit() for c in w),
                "shape": "".join(
                    "X" if c.isupper() else "x" if c.islower() else "d" if c.isdigit() else c
                    for c in w
                )[:6],
                "first": i == 0,
            }
            for k, j in (("-1", i - 1), ("+1", i + 1)):
                if 0 <= j < len(sentence):
                    f["w" + k] = sentence[j].lower()
                    f["title" + k] = sentence[j].istitle()
            out.append(f)
        return out

    def linear(self, rows, dev_rows):
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        from skmtl._spans import span_scores

        def tokens(split, idx):
            feats, tags = [], []
            for i in idx:
                feats += self._features(self.X[split][i])
                tags += list(self.Y[split]["ner"].iloc[i])
            return feats, tags

        def tag(clf, vec, split, idx):
            out = []
            for i in idx:
                s = self.X[split][i]
                out.append(list(clf.predict(vec.transform(self._features(s)))) if s else [])
            return out

        ftr, ttr = tokens("train", rows)
        vec = DictVectorizer()
        Xtr = vec.fit_transform(ftr)
        truth_dev = [list(self.Y["dev"]["ner"].iloc[i]) for i in dev_rows]
        best = None
        for C in (0.3, 1.0, 3.0, 10.0):
            clf = LogisticRegression(C=C, max_iter=300).fit(Xtr, ttr)
            dev = span_scores(truth_dev, tag(clf, vec, "dev", dev_rows))["f1"]
            if best is None or dev > best[0]:
                best = (dev, C, clf)
        test_rows = range(len(self.X["test"]))
        pred = tag(best[2], vec, "test", test_rows)
        test = span_scores([list(t) for t in self.Y["test"]["ner"]], pred)["f1"]
        return float(test), {"C": best[1]}


class EmoBank:
    name, target, aux = "emobank", ["A", "D"], ["V"]
    metric = "mean Pearson r of arousal and dominance"
    epochs, batch_size = 10, 128
    strategies = ("dbmtl", "mgda@representation")

    def __init__(self, root, args):
        from sklearn.feature_extraction.text import TfidfVectorizer

        from skmtl.datasets import load_emobank

        splits = {
            s: load_emobank(Path(root) / "emobank", split=s) for s in ("train", "dev", "test")
        }
        vec = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=20000, dtype=np.float32
        )
        vec.fit(splits["train"].text)
        self.X = {s: vec.transform(b.text).astype(np.float32).tocsr() for s, b in splits.items()}
        self.Y = {
            s: b.targets[["V", "A", "D"]].astype(float).reset_index(drop=True)
            for s, b in splits.items()
        }

    def estimator(self, seed, **kw):
        from skmtl import MultiTaskRegressor

        return MultiTaskRegressor(
            hidden_layer_sizes=(256,),
            learning_rate=1e-3,
            batch_size=self.batch_size,
            random_state=seed,
            **kw,
        )

    def _r(self, pred, split="test", rows=None):
        truth = self.Y[split] if rows is None else self.Y[split].iloc[rows]
        pred = pd.DataFrame(pred) if not isinstance(pred, pd.DataFrame) else pred
        return float(
            np.mean(
                [
                    np.corrcoef(truth[t].to_numpy(), np.asarray(pred[t], float))[0, 1]
                    for t in self.target
                ]
            )
        )

    def score(self, model):
        return self._r(model.predict(self.X["test"]))

    def linear(self, rows, dev_rows):
        from sklearn.linear_model import Ridge

        best = None
        for alpha in (0.3, 1.0, 3.0, 10.0, 30.0):
            reg = Ridge(alpha=alpha).fit(
                self.X["train"][rows], self.Y["train"][self.target].iloc[rows]
            )
            pred = pd.DataFrame(reg.predict(self.X["dev"][dev_rows]), columns=self.target)
            dev = self._r(pred, "dev", dev_rows)
            if best is None or dev > best[0]:
                best = (dev, alpha, reg)
        pred = pd.DataFrame(best[2].predict(self.X["test"]), columns=self.target)
        return self._r(pred), {"alpha": best[1]}


DATASETS = {"goemotions": GoEmotions, "ewt": EWT, "emobank": EmoBank}


# --------------------------------------------------------------------------- helpers


def n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def take(X, rows):
    return X[rows] if hasattr(X, "shape") else [X[i] for i in rows]


def stack(a, b):
    import scipy.sparse as sp

    return sp.vstack([a, b]).tocsr() if hasattr(a, "shape") else list(a) + list(b)


def subset(n, fraction, seed, minimum=1):
    k = max(minimum, int(np.ceil(fraction * n)))
    return np.sort(np.random.RandomState(1000 + seed).permutation(n)[: min(k, n)])


def blank(frame, columns):
    out = frame.copy()
    for c in columns:
        out[c] = pd.Series(
            [np.nan if out[c].dtype.kind == "f" else None] * len(out), dtype=out[c].dtype
        )
    return out


class Plan:
    """One (data set, fraction, seed): the labelled target rows and the dev subset."""

    def __init__(self, data, fraction, seed):
        self.data, self.fraction, self.seed = data, fraction, seed
        n, n_dev = n_rows(data.X["train"]), n_rows(data.X["dev"])
        self.rows = subset(n, fraction, seed)
        self.dev_rows = subset(n_dev, fraction, seed, minimum=MIN_DEV)
        full = data.epochs * int(np.ceil(n / data.batch_size))
        self.budget = full

    def epochs_for(self, n):
        """``(max_epochs, patience)`` for a fit on ``n`` rows: the step budget, and a
        patience of a fifth of it (at least 3 epochs)."""
        steps = int(np.ceil(n / self.data.batch_size))
        epochs = int(np.ceil(self.budget / steps))
        return epochs, max(3, epochs // 5)

    def with_dev(self, X, Y):
        """(X + dev subset, Y + the dev subset's target labels, validation mask)."""
        d = self.data
        Xd = take(d.X["dev"], self.dev_rows)
        Yd = d.Y["dev"].iloc[self.dev_rows][list(Y.columns)].reset_index(drop=True)
        Yd = blank(Yd, [c for c in Y.columns if c not in d.target])
        mask = np.r_[np.zeros(n_rows(X), bool), np.ones(n_rows(Xd), bool)]
        return stack(X, Xd), pd.concat([Y.reset_index(drop=True), Yd], ignore_index=True), mask


def make_strategy(name, seed):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_weighting import make_strategy as make

    return make(name, seed)


def timed(fn):
    tic = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Training stopped at max_epochs")
        warnings.filterwarnings("ignore", message=".*every prediction is the empty label set")
        out = fn()
    return out, time.perf_counter() - tic


# --------------------------------------------------------------------------- methods


def fit_target(plan, rows, Y, **kw):
    """A model on ``rows`` of the train split with targets ``Y``, early-stopped on dev."""
    d = plan.data
    X, Y, mask = plan.with_dev(take(d.X["train"], rows), Y)
    epochs, patience = plan.epochs_for(len(rows))
    model = d.estimator(
        plan.seed, max_epochs=epochs, early_stopping=True, n_iter_no_change=patience, **kw
    )
    return model.fit(X, Y, validation_rows=mask)


def multi_task_frame(plan):
    d = plan.data
    Y = d.Y["train"][d.aux + d.target].copy()
    keep = np.zeros(len(Y), bool)
    keep[plan.rows] = True
    for t in d.target:
        col = Y[t].copy()
        col[~keep] = np.nan if col.dtype.kind == "f" else None
        Y[t] = col
    return Y


def run_single(plan, **_):
    d = plan.data
    Y = d.Y["train"][d.target].iloc[plan.rows]
    return fit_target(plan, plan.rows, Y)


def run_multi(plan, weighting=None, task_weights=None, **_):
    all_rows = np.arange(n_rows(plan.data.X["train"]))
    return fit_target(
        plan, all_rows, multi_task_frame(plan), weighting=weighting, task_weights=task_weights
    )


_TRUNKS: dict = {}


def aux_trunk(data, seed):
    """The model trained on the auxiliary tasks (all rows), once per seed."""
    cache = _TRUNKS
    if seed not in cache:
        n = n_rows(data.X["train"])
        model = data.estimator(seed, max_epochs=data.epochs)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Training stopped at max_epochs")
            cache[seed] = model.fit(data.X["train"], data.Y["train"][data.aux])
        cache[seed].n_rows_ = n
    return cache[seed]


def run_add(plan, freeze, **_):
    d = plan.data
    model = copy.deepcopy(aux_trunk(d, plan.seed))
    X, Y, mask = plan.with_dev(
        take(d.X["train"], plan.rows), d.Y["train"][d.target].iloc[plan.rows]
    )
    epochs, patience = plan.epochs_for(len(plan.rows))
    model.set_params(max_epochs=epochs, early_stopping=True, n_iter_no_change=patience)
    return model.add_tasks(X, Y, freeze_shared=freeze, validation_rows=mask)


def tune_static(plan):
    """The target weight among STATIC_GRID with the best dev-subset score (seed ``plan.seed``)."""
    from skmtl.metrics import task_score

    d = plan.data
    found = []
    for w in STATIC_GRID:
        tw = {**dict.fromkeys(d.aux, 1.0), **dict.fromkeys(d.target, w)}
        model, _ = timed(functools.partial(run_multi, plan, task_weights=tw))
        pred = model.predict(take(d.X["dev"], plan.dev_rows))
        truth = d.Y["dev"].iloc[plan.dev_rows]
        score = np.mean(
            [
                task_score(
                    list(truth[t]),
                    pred[t],
                    model.tasks_[t].default_metric,
                    task_type=model.tasks_[t].type,
                )
                for t in d.target
            ]
        )
        found.append((float(score), w))
    return max(found, key=lambda sw: (sw[0], -sw[1]))[1], found  # ties: the smaller weight


# --------------------------------------------------------------------------- the run


def run(args):
    data = DATASETS[args.dataset](args.data_root, args)
    seeds = list(range(args.seeds))
    fractions = [float(f) for f in args.fractions.split(",")]
    methods = [
        "single-task",
        "multi-task",
        "add_tasks (frozen)",
        "add_tasks (fine-tuned)",
        *(f"multi-task + {s}" for s in data.strategies),
        "multi-task + tuned static",
        "linear (tuned)",
    ]
    results = {m: {str(f): {} for f in fractions} for m in methods}
    static = {}
    t0 = time.perf_counter()
    for f in fractions:
        best_w, table = tune_static(Plan(data, f, seeds[0]))
        static[str(f)] = {"target_weight": best_w, "dev_scores": table}
        log(f"{data.name} fraction {f}: static target weight {best_w} ({table})", flush=True)
        linear_done = None
        for seed in seeds:
            plan = Plan(data, f, seed)
            tw = {**dict.fromkeys(data.aux, 1.0), **dict.fromkeys(data.target, best_w)}
            runs = {
                "single-task": (run_single, {}),
                "multi-task": (run_multi, {}),
                "add_tasks (frozen)": (run_add, {"freeze": True}),
                "add_tasks (fine-tuned)": (run_add, {"freeze": False}),
                "multi-task + tuned static": (run_multi, {"task_weights": tw}),
            }
            for s in data.strategies:
                runs[f"multi-task + {s}"] = (run_multi, {"weighting": make_strategy(s, seed)})
            for name, (fn, kw) in runs.items():
                model, secs = timed(functools.partial(fn, plan, **kw))
                results[name][str(f)][seed] = {
                    "score": data.score(model),
                    "fit_s": secs,
                    "epochs": len(model.history_),
                    "best_epoch": model.best_epoch_,
                }
                score = results[name][str(f)][seed]["score"]
                log(f"{data.name} f={f} seed={seed} {name:28s} {score:.4f} ({secs:.0f} s)")
            # The linear baseline is deterministic: one fit per distinct row subset.
            if linear_done is None or f < 1.0:
                (score, chosen), secs = timed(
                    functools.partial(data.linear, plan.rows, plan.dev_rows)
                )
                linear_done = {"score": score, "fit_s": secs, **chosen}
            results["linear (tuned)"][str(f)][seed] = dict(linear_done)
            linear = linear_done["score"]
            log(f"{data.name} f={f} seed={seed} {'linear (tuned)':28s} {linear:.4f}")
    return data, seeds, fractions, methods, results, static, time.perf_counter() - t0


def summarise(seeds, fractions, methods, results):
    out = {}
    for m in methods:
        out[m] = {}
        for f in fractions:
            cell = results[m][str(f)]
            scores = [cell[s]["score"] for s in seeds]
            gains = [cell[s]["score"] - results["single-task"][str(f)][s]["score"] for s in seeds]
            out[m][str(f)] = {
                "mean": float(np.mean(scores)),
                "std": float(np.std(scores)),
                "gain_vs_single": float(np.mean(gains)),
                "gain_std": float(np.std(gains)),
                "fit_s": float(np.mean([cell[s]["fit_s"] for s in seeds])),
            }
    return out


def markdown(res) -> str:
    s = res["settings"]
    fr = s["fractions"]
    lines = [
        f"# Transfer to a low-resource target: {s['dataset']}",
        "",
        f"Target: {s['target']} ({s['metric']}); auxiliary: {s['aux']} (all labels). "
        f"Train rows {s['n_train']}; the target keeps "
        + ", ".join(f"{f:.0%} ({n} rows)" for f, n in zip(fr, s["target_rows"], strict=True))
        + f". Seeds {s['seeds']} (a different random subset per seed; means ± std). "
        f"Wall time {res['wall_s'] / 60:.1f} min.",
        "",
        "| method | " + " | ".join(f"{f:.0%}" for f in fr) + " |",
        "|---|" + "---:|" * len(fr),
    ]
    for m, cells in res["summary"].items():
        lines.append(
            f"| {m} | "
            + " | ".join(f"{cells[str(f)]['mean']:.4f} ± {cells[str(f)]['std']:.4f}" for f in fr)
            + " |"
        )
    lines += [
        "",
        "Gain over single-task (mean ± std of the per-seed differences):",
        "",
        "| method | " + " | ".join(f"{f:.0%}" for f in fr) + " |",
        "|---|" + "---:|" * len(fr),
    ]
    for m, cells in res["summary"].items():
        if m == "single-task":
            continue
        lines.append(
            f"| {m} | "
            + " | ".join(
                f"{cells[str(f)]['gain_vs_single']:+.4f} ± {cells[str(f)]['gain_std']:.4f}"
                for f in fr
            )
            + " |"
        )
    lines += [
        "",
        "Mean fit time (s):",
        "",
        "| method | " + " | ".join(f"{f:.0%}" for f in fr) + " |",
        "|---|" + "---:|" * len(fr),
    ]
    for m, cells in res["summary"].items():
        lines.append(f"| {m} | " + " | ".join(f"{cells[str(f)]['fit_s']:.0f}" for f in fr) + " |")
    lines += [
        "",
        "Tuned static target weight (chosen on the dev subset, seed 0): "
        + ", ".join(f"{float(f):.0%}: {v['target_weight']}" for f, v in res["static"].items())
        + ".",
        "",
    ]
    return "\n".join(lines)


def plot(out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    found = [
        (ds, json.loads((RESULTS / f"transfer_{ds}.json").read_text()))
        for ds in DATASETS
        if (RESULTS / f"transfer_{ds}.json").exists()
    ]
    fig, axes = plt.subplots(1, len(found), figsize=(5.2 * len(found), 4.2), squeeze=False)
    for ax, (ds, res) in zip(axes[0], found, strict=True):
        fr = res["settings"]["fractions"]
        for m, cells in res["summary"].items():
            mean = [cells[str(f)]["mean"] for f in fr]
            std = [cells[str(f)]["std"] for f in fr]
            style = "--" if m.startswith("linear") else "-"
            ax.errorbar(fr, mean, yerr=std, marker="o", ms=3, capsize=2, ls=style, label=m)
        ax.set_xscale("log")
        ax.set_xticks(fr, [f"{f:.0%}" for f in fr])
        ax.set_xlabel("share of the target's training labels")
        ax.set_ylabel(res["settings"]["metric"])
        ax.set_title(ds)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)  # each panel: its data set's two weighting strategies differ
    fig.tight_layout()
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=120)
    print(f"wrote {out_png}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_root", nargs="?")
    ap.add_argument("--dataset", choices=tuple(DATASETS))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--fractions", default=",".join(map(str, FRACTIONS)))
    ap.add_argument("--train-rows", type=int, default=None, help="random train subset")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="smoke run: small, 1 seed, 2 fractions")
    ap.add_argument("--plot", action="store_true", help="draw docs/images/transfer_curves.png")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.plot:
        plot(Path("docs/images/transfer_curves.png"))
        return
    # An undertrained multilabel head at 1 % of the labels predicts empty sets: scored as such.
    warnings.filterwarnings("ignore", message=".*every prediction is the empty label set")
    if not (args.data_root and args.dataset):
        ap.error("data_root and --dataset are needed (or --plot)")
    torch.set_num_threads(args.threads)
    if args.quick:
        args.seeds, args.fractions = 1, "0.05,1.0"
        args.train_rows = args.train_rows or (3000 if args.dataset != "ewt" else 300)
        GoEmotions.epochs, EWT.epochs, EmoBank.epochs = 2, 1, 3
    data, seeds, fractions, methods, results, static, wall = run(args)
    n = n_rows(data.X["train"])
    res = {
        "settings": {
            "dataset": args.dataset,
            "target": data.target,
            "aux": data.aux,
            "metric": data.metric,
            "seeds": seeds,
            "fractions": fractions,
            "n_train": n,
            "target_rows": [len(subset(n, f, 0)) for f in fractions],
            "epochs": data.epochs,
            "batch_size": data.batch_size,
            "strategies": list(data.strategies),
            "quick": args.quick,
            "train_rows": args.train_rows,
        },
        "machine": machine_info(),
        "wall_s": wall,
        "static": static,
        "summary": summarise(seeds, fractions, methods, results),
        "runs": results,
    }
    out = Path(
        args.out or RESULTS / f"transfer_{args.dataset}{'_quick' if args.quick else ''}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2, default=str))
    out.with_name(out.stem + ".md").write_text(markdown(res))
    print(markdown(res))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
