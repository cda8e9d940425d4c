"""The main demo: what multi-task learning costs, how skmtl mitigates it, and where it pays.

Run it with ``python -m skmtl.demo`` (or ``make demo``); about two minutes on two
CPU cores, with a progress bar. Everything runs on small samples of real data
shipped with skmtl, and every multi-task model is set beside one model per task
of the same architecture, trained for the same epochs:

1. **Interference.** The GoEmotions sample (Reddit comments; three multilabel
   tasks: 28 emotions, Ekman groups, sentiment groups), TF-IDF features, an MLP.
   With equal task weights the shared model serves each task worse than a model
   of its own: the tasks compete for the shared layers.
2. **A remedy.** The same model with ``weighting=FairGrad()`` (Ban & Ji, 2024),
   which balances the tasks' gradients so that no task is starved: most of the
   gap closes, with one model instead of three.
3. **Where sharing pays.** Emotion labels for only 10 % of the comments (the
   other tasks labelled everywhere): the shared layers learn from the other
   tasks' labels, and emotion macro-F1 roughly doubles against a model trained
   on its few labels alone.
4. **Tokens.** The English-EWT sample: UPOS tagging and NER (with a CRF head) in
   one :class:`~skmtl.MultiTaskTagger` beside one tagger per task.

Decision thresholds of every multilabel model are tuned on the dev split, never
on test. The final table gathers the four comparisons.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from tqdm.auto import tqdm

from skmtl import MultiTaskClassifier, MultiTaskTagger
from skmtl.datasets import load_ewt, load_goemotions
from skmtl.encoders import TextEncoder
from skmtl.metrics import task_score, tune_thresholds
from skmtl.weighting import FairGrad

__all__ = ["main", "run_demo", "run_low_resource_demo", "run_tagging_demo"]

# Fits of each part (for the progress bar's total).
_FITS = {"documents": 5, "low_resource": 2, "tokens": 3}


class _Steps:
    """One progress bar over the demo's fits; the description names the current one."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = tqdm(total=total, desc="skmtl demo", unit="fit", disable=not enabled)

    def fit(self, what: str, model, X, Y):
        self.bar.set_description(f"fitting {what}")
        tic = time.perf_counter()
        model.fit(X, Y)
        self.bar.update(1)
        return model, time.perf_counter() - tic

    def close(self) -> None:
        self.bar.close()


def _tune_on_dev(model, X_dev, Y_dev):
    """Per-label decision thresholds of every task, chosen on dev.

    Dev labels the model never saw in training (possible when a task has few
    labelled rows) cannot be predicted, so they are left out of the tuning.
    """
    probas = model.predict_proba(X_dev)
    thresholds = {}
    for (name, task), proba in zip(model.tasks_.items(), probas, strict=True):
        known = set(task.classes)
        y = [tuple(label for label in cell if label in known) for cell in Y_dev[name]]
        thresholds[name] = tune_thresholds(y, proba, labels=list(task.classes))
    return model.set_params(threshold=thresholds)


def _scores(model, X_dev, Y_dev, X_test, Y_test, tasks: Sequence[str]) -> dict:
    _tune_on_dev(model, X_dev, Y_dev[list(tasks)])
    pred = model.predict(X_test)
    return {t: task_score(Y_test[t], pred[t], "f1_macro") for t in tasks}


def _goemotions(data_path):
    splits = [load_goemotions(data_path, split=s) for s in ("train", "dev", "test")]
    tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2))
    X = [tfidf.fit_transform(splits[0].text)] + [tfidf.transform(s.text) for s in splits[1:]]
    return splits, X


def _mlp(max_epochs: int, random_state: int) -> MultiTaskClassifier:
    return MultiTaskClassifier(
        hidden_layer_sizes=(256,),
        dropout=0.2,
        batch_size=64,
        max_epochs=max_epochs,
        random_state=random_state,
    )


def run_demo(
    data_path=None, *, max_epochs: int = 15, random_state: int = 0, steps: _Steps | None = None
) -> dict:
    """Parts 1 and 2: equal weights and FairGrad against one model per task.

    Parameters
    ----------
    data_path : str or None
        A GoEmotions folder; None uses the sample shipped with skmtl.
    max_epochs : int
        Training epochs of every model.
    random_state : int
        Seed of every model.
    steps : object or None
        The demo's progress bar (None: no progress shown).

    Returns
    -------
    results : dict
        ``{"tasks": {task: {"multi_task": f1, "fairgrad": f1, "single_task": f1}},
        "fit_seconds": {"multi_task": s, "fairgrad": s, "single_task": s}, "sizes": ...}``.
    """
    steps = steps or _Steps(_FITS["documents"], enabled=False)
    (train, dev, test), (X_train, X_dev, X_test) = _goemotions(data_path)
    tasks = list(train.targets.columns)
    base = _mlp(max_epochs, random_state)
    evaluate = (X_dev, dev.targets, X_test, test.targets)
    results = {"tasks": {t: {} for t in tasks}, "fit_seconds": {"single_task": 0.0}}
    for key, what, model in [
        ("multi_task", "the multi-task model (equal weights)", clone(base)),
        ("fairgrad", "the multi-task model with FairGrad", clone(base).set_params(
            weighting=FairGrad())),
    ]:
        model, seconds = steps.fit(what, model, X_train, train.targets)
        results["fit_seconds"][key] = seconds
        for task, score in _scores(model, *evaluate, tasks).items():
            results["tasks"][task][key] = score
    for task in tasks:
        single, seconds = steps.fit(f"a model for {task} alone", clone(base), X_train,
                                    train.targets[[task]])
        results["fit_seconds"]["single_task"] += seconds
        results["tasks"][task]["single_task"] = _scores(single, *evaluate, [task])[task]
    results["sizes"] = {"train": len(train.text), "dev": len(dev.text), "test": len(test.text)}
    return results


def run_low_resource_demo(
    data_path=None,
    *,
    fraction: float = 0.1,
    max_epochs: int = 15,
    random_state: int = 0,
    steps: _Steps | None = None,
) -> dict:
    """Part 3: emotion labelled on ``fraction`` of the comments, the other tasks everywhere.

    Returns
    -------
    results : dict
        ``{"labelled": n, "train": n, "emotion": {"multi_task": f1, "single_task": f1}}``.
    """
    steps = steps or _Steps(_FITS["low_resource"], enabled=False)
    (train, dev, test), (X_train, X_dev, X_test) = _goemotions(data_path)
    keep = np.random.RandomState(random_state).rand(len(train.text)) < fraction
    Y = train.targets.copy()
    Y.loc[~keep, "emotion"] = None  # missing labels are data: those rows train the others
    base = _mlp(max_epochs, random_state)
    evaluate = (X_dev, dev.targets, X_test, test.targets)
    single, _ = steps.fit("emotion alone on its few labels", clone(base), X_train[keep],
                          Y.loc[keep, ["emotion"]])
    multi, _ = steps.fit("emotion with the fully labelled tasks", clone(base), X_train, Y)
    return {
        "labelled": int(keep.sum()),
        "train": len(train.text),
        "emotion": {
            "single_task": _scores(single, *evaluate, ["emotion"])["emotion"],
            "multi_task": _scores(multi, *evaluate, list(Y.columns))["emotion"],
        },
    }


def run_tagging_demo(
    *, max_epochs: int = 20, random_state: int = 0, steps: _Steps | None = None
) -> dict:
    """Part 4: UPOS + NER in one tagger against one tagger per task, on the EWT sample.

    Returns
    -------
    results : dict
        ``{"tasks": {task: {"metric": name, "multi_task": s, "single_task": s}},
        "fit_seconds": {...}, "sizes": {...}}``.
    """
    steps = steps or _Steps(_FITS["tokens"], enabled=False)
    train, test = load_ewt(split="train"), load_ewt(split="test")
    Y_train = train.targets[["upos", "ner"]]
    base = MultiTaskTagger(
        TextEncoder(architecture="cnn", char_dim=16),
        crf="auto",
        max_epochs=max_epochs,
        random_state=random_state,
    )
    metrics = {"upos": "token_accuracy", "ner": "span_f1"}
    multi, seconds = steps.fit("one tagger for UPOS + NER", clone(base), train.tokens, Y_train)
    results = {
        "tasks": {},
        "fit_seconds": {"multi_task": seconds, "single_task": 0.0},
        "sizes": {"train": len(train.tokens), "test": len(test.tokens)},
    }
    multi_pred = multi.predict(test.tokens)
    for task, metric in metrics.items():
        single, seconds = steps.fit(f"a tagger for {task} alone", clone(base), train.tokens,
                                    Y_train[[task]])
        results["fit_seconds"]["single_task"] += seconds
        single_pred = single.predict(test.tokens)
        results["tasks"][task] = {
            "metric": metric,
            "multi_task": task_score(test.targets[task], multi_pred[task], metric),
            "single_task": task_score(test.targets[task], single_pred[task], metric),
        }
    return results


def _gain(multi: float, single: float) -> float:
    return (multi - single) / max(single, 1e-12)


def _print(results: dict) -> None:
    sizes = results["sizes"]
    print(
        "\n1-2. Interference, and a remedy. GoEmotions sample shipped with skmtl: "
        f"{sizes['train']} train / {sizes['dev']} dev / {sizes['test']} test comments;\n"
        "TF-IDF (1-2 grams) -> MLP(256) -> one head per task; thresholds tuned on dev. "
        "Test macro-F1:\n"
    )
    print(
        f"{'task':<10} {'one model per task':>18} {'multi-task, equal':>18} {'gain':>7} "
        f"{'multi-task, FairGrad':>21} {'gain':>7}"
    )
    gains = {"multi_task": [], "fairgrad": []}
    for task, s in results["tasks"].items():
        row = f"{task:<10} {s['single_task']:>18.3f}"
        for key, width in (("multi_task", 18), ("fairgrad", 21)):
            gains[key].append(_gain(s[key], s["single_task"]))
            row += f" {s[key]:>{width}.3f} {gains[key][-1]:>+7.1%}"
        print(row)
    mean = {k: sum(v) / len(v) for k, v in gains.items()}
    print(f"{'mean':<10} {'':>18} {'':>18} {mean['multi_task']:>+7.1%} {'':>21} "
          f"{mean['fairgrad']:>+7.1%}")
    fit = results["fit_seconds"]
    print(
        f"\nfit time: three single-task models {fit['single_task']:.1f} s; multi-task "
        f"{fit['multi_task']:.1f} s (equal weights), {fit['fairgrad']:.1f} s (FairGrad)."
    )
    print(
        "A negative gain is task interference: with equal weights the tasks compete for the\n"
        "shared layers. FairGrad balances their gradients at each step, a cost of one "
        "gradient per task.\nOther remedies: tuned task_weights (GridSearchCV or "
        "TaskWeightSearchCV) and the other strategies of skmtl.weighting."
    )


def _print_low_resource(results: dict) -> None:
    s = results["emotion"]
    print(
        f"\n3. Where sharing pays: emotion labelled on {results['labelled']} of "
        f"{results['train']} comments, ekman and sentiment on all (missing labels are data).\n"
    )
    print(f"{'task':<10} {'emotion alone':>14} {'with the other tasks':>21} {'gain':>7}")
    gain = _gain(s["multi_task"], s["single_task"])
    print(f"{'emotion':<10} {s['single_task']:>14.3f} {s['multi_task']:>21.3f} {gain:>+7.1%}")


def _print_tagging(results: dict) -> None:
    sizes = results["sizes"]
    print(
        "\n4. Tokens: English-EWT sample shipped with skmtl: "
        f"{sizes['train']} train / {sizes['test']} test sentences; hashed token features + CNN "
        "-> softmax head (upos), CRF head (ner).\n"
    )
    print(f"{'task':<10} {'metric':<15} {'multi-task':>10} {'single-task':>11} {'gain':>7}")
    for task, s in results["tasks"].items():
        gain = _gain(s["multi_task"], s["single_task"])
        print(
            f"{task:<10} {s['metric']:<15} {s['multi_task']:>10.3f} {s['single_task']:>11.3f} "
            f"{gain:>+7.1%}"
        )
    fit = results["fit_seconds"]
    print(
        f"\nfit time: multi-task {fit['multi_task']:.1f} s; single-task taggers together "
        f"{fit['single_task']:.1f} s. The full-data comparison with spaCy is "
        "benchmarks/bench_tagger_ewt.py."
    )


def _print_summary(documents: dict, low: dict, tokens: dict) -> None:
    print("\nSummary: one multi-task model against one model per task (test scores)\n")
    print(f"{'setting':<40} {'task':<10} {'one per task':>12} {'multi-task':>10} {'gain':>7}")
    rows = []
    for key, name in (("multi_task", "full labels, equal weights"),
                      ("fairgrad", "full labels, FairGrad")):
        rows += [(name, t, s["single_task"], s[key]) for t, s in documents["tasks"].items()]
    e = low["emotion"]
    rows.append((f"emotion labels on {low['labelled']} comments", "emotion", e["single_task"],
                 e["multi_task"]))
    rows += [("tokens (UPOS + NER tagger)", t, s["single_task"], s["multi_task"])
             for t, s in tokens["tasks"].items()]
    for name, task, single, multi in rows:
        print(f"{name:<40} {task:<10} {single:>12.3f} {multi:>10.3f} "
              f"{_gain(multi, single):>+7.1%}")
    print(
        "\nMeasure before you share: skmtl.diagnostics (relative_gain, task_affinity,\n"
        "AuxiliaryTaskSelector) tells which tasks help each other; the user guide has the\n"
        "full-data numbers (benchmarks/)."
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="a GoEmotions folder (default: the sample)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--tagging-epochs", type=int, default=20)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    # Both sides of each comparison train for the same fixed number of epochs on
    # purpose; the "loss still falling" ConvergenceWarning is expected here.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    print("skmtl demo: one multi-task model against one model per task, on real data.")
    steps = _Steps(sum(_FITS.values()), enabled=not args.quiet)
    try:  # each part's table is printed as soon as it is done, above the bar
        documents = run_demo(args.data, max_epochs=args.epochs, steps=steps)
        with tqdm.external_write_mode():
            _print(documents)
        low = run_low_resource_demo(args.data, max_epochs=args.epochs, steps=steps)
        with tqdm.external_write_mode():
            _print_low_resource(low)
        tokens = run_tagging_demo(max_epochs=args.tagging_epochs, steps=steps)
        with tqdm.external_write_mode():
            _print_tagging(tokens)
    finally:
        steps.close()
    _print_summary(documents, low, tokens)


if __name__ == "__main__":
    main()
