"""The main demo: one multi-task model against one model per task.

Run it with ``python -m skmtl.demo`` (or ``make demo``). Two parts, both on
small samples of real data shipped with skmtl:

1. Documents: the GoEmotions sample (Reddit comments; three multilabel tasks:
   28 emotions, Ekman groups, sentiment groups), TF-IDF features, an MLP. Each
   task's test macro-F1 for the multi-task model beside single-task baselines of
   the same architecture, plus the fit times. Decision thresholds of every model
   are tuned on the dev split, never on test.
2. Tokens: the English-EWT sample, UPOS tagging and NER (with a CRF head) in one
   :class:`~skmtl.MultiTaskTagger` beside one tagger per task; test token
   accuracy and entity F1.
"""

from __future__ import annotations

import argparse
import time
import warnings

from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

from skmtl import MultiTaskClassifier, MultiTaskTagger
from skmtl.datasets import load_ewt, load_goemotions
from skmtl.encoders import TextEncoder
from skmtl.metrics import task_score, tune_thresholds

__all__ = ["main", "run_demo", "run_tagging_demo"]


def _tune_on_dev(model, X_dev, Y_dev):
    """Per-label decision thresholds of every task, chosen on dev."""
    probas = model.predict_proba(X_dev)
    thresholds = {
        name: tune_thresholds(list(Y_dev[name]), proba, labels=list(task.classes))
        for (name, task), proba in zip(model.tasks_.items(), probas, strict=True)
    }
    return model.set_params(threshold=thresholds)


def run_demo(data_path=None, *, max_epochs: int = 15, random_state: int = 0) -> dict:
    """Fit the multi-task model and the single-task baselines; return the scores.

    Parameters
    ----------
    data_path : str or None
        A GoEmotions folder; None uses the sample shipped with skmtl.
    max_epochs : int
        Training epochs of every model.
    random_state : int
        Seed of every model.

    Returns
    -------
    results : dict
        ``{"tasks": {task: {"multi_task": f1, "single_task": f1}},
        "fit_seconds": {"multi_task": s, "single_task": s}}``.
    """
    train = load_goemotions(data_path, split="train")
    dev = load_goemotions(data_path, split="dev")
    test = load_goemotions(data_path, split="test")
    tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2))
    X_train = tfidf.fit_transform(train.text)
    X_dev, X_test = tfidf.transform(dev.text), tfidf.transform(test.text)

    base = MultiTaskClassifier(
        hidden_layer_sizes=(256,),
        dropout=0.2,
        batch_size=64,
        max_epochs=max_epochs,
        random_state=random_state,
    )
    tasks = list(train.targets.columns)

    tic = time.perf_counter()
    multi = clone(base).fit(X_train, train.targets)
    multi_seconds = time.perf_counter() - tic
    _tune_on_dev(multi, X_dev, dev.targets)
    multi_pred = multi.predict(X_test)

    results = {"tasks": {}, "fit_seconds": {"multi_task": multi_seconds, "single_task": 0.0}}
    for task in tasks:
        tic = time.perf_counter()
        single = clone(base).fit(X_train, train.targets[[task]])
        results["fit_seconds"]["single_task"] += time.perf_counter() - tic
        _tune_on_dev(single, X_dev, dev.targets[[task]])
        single_pred = single.predict(X_test)
        results["tasks"][task] = {
            "multi_task": task_score(test.targets[task], multi_pred[task], "f1_macro"),
            "single_task": task_score(test.targets[task], single_pred[task], "f1_macro"),
        }
    results["sizes"] = {"train": len(train.text), "dev": len(dev.text), "test": len(test.text)}
    return results


def run_tagging_demo(*, max_epochs: int = 20, random_state: int = 0) -> dict:
    """UPOS + NER in one tagger against one tagger per task, on the shipped EWT sample.

    Returns
    -------
    results : dict
        ``{"tasks": {task: {"metric": name, "multi_task": s, "single_task": s}},
        "fit_seconds": {...}, "sizes": {...}}``.
    """
    train, test = load_ewt(split="train"), load_ewt(split="test")
    Y_train = train.targets[["upos", "ner"]]
    base = MultiTaskTagger(
        TextEncoder(architecture="cnn", char_dim=16),
        crf="auto",
        max_epochs=max_epochs,
        random_state=random_state,
    )
    metrics = {"upos": "token_accuracy", "ner": "span_f1"}
    tic = time.perf_counter()
    multi = clone(base).fit(train.tokens, Y_train)
    results = {
        "tasks": {},
        "fit_seconds": {"multi_task": time.perf_counter() - tic, "single_task": 0.0},
        "sizes": {"train": len(train.tokens), "test": len(test.tokens)},
    }
    multi_pred = multi.predict(test.tokens)
    for task, metric in metrics.items():
        tic = time.perf_counter()
        single = clone(base).fit(train.tokens, Y_train[[task]])
        results["fit_seconds"]["single_task"] += time.perf_counter() - tic
        single_pred = single.predict(test.tokens)
        results["tasks"][task] = {
            "metric": metric,
            "multi_task": task_score(test.targets[task], multi_pred[task], metric),
            "single_task": task_score(test.targets[task], single_pred[task], metric),
        }
    return results


def _print_tagging(results: dict) -> None:
    sizes = results["sizes"]
    print(
        "\nTokens: English-EWT sample shipped with skmtl: "
        f"{sizes['train']} train / {sizes['test']} test sentences; hashed token features + CNN "
        "-> softmax head (upos), CRF head (ner).\n"
    )
    print(f"{'task':<10} {'metric':<15} {'multi-task':>10} {'single-task':>11}")
    for task, s in results["tasks"].items():
        print(f"{task:<10} {s['metric']:<15} {s['multi_task']:>10.3f} {s['single_task']:>11.3f}")
    fit = results["fit_seconds"]
    print(
        f"\nfit time: multi-task {fit['multi_task']:.1f} s; single-task taggers together "
        f"{fit['single_task']:.1f} s. The full-data comparison with spaCy is "
        "benchmarks/bench_tagger_ewt.py."
    )


def _print(results: dict) -> None:
    sizes = results["sizes"]
    print(
        "skmtl demo: one multi-task model vs one model per task\n"
        f"GoEmotions sample shipped with skmtl: {sizes['train']} train / {sizes['dev']} dev / "
        f"{sizes['test']} test comments; TF-IDF (1-2 grams) -> MLP(256) -> one head per task;\n"
        "multilabel decision thresholds tuned on dev. Test macro-F1:\n"
    )
    print(f"{'task':<10} {'multi-task':>10} {'single-task':>11} {'relative gain':>14}")
    gains = []
    for task, s in results["tasks"].items():
        gain = (s["multi_task"] - s["single_task"]) / max(s["single_task"], 1e-12)
        gains.append(gain)
        print(f"{task:<10} {s['multi_task']:>10.3f} {s['single_task']:>11.3f} {gain:>+13.1%}")
    print(f"{'mean':<10} {'':>10} {'':>11} {sum(gains) / len(gains):>+13.1%}")
    fit = results["fit_seconds"]
    print(
        f"\nfit time: multi-task {fit['multi_task']:.1f} s; single-task models together "
        f"{fit['single_task']:.1f} s ({fit['multi_task'] / fit['single_task']:.2f}x)."
    )
    print(
        "A negative gain is task interference: the shared model serves that task worse than a "
        "model of its own. Tune task_weights (GridSearchCV) or try weighting= to trade off."
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="a GoEmotions folder (default: the sample)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--tagging-epochs", type=int, default=20)
    args = parser.parse_args(argv)
    # Both sides of each comparison train for the same fixed number of epochs on
    # purpose; the "loss still falling" ConvergenceWarning is expected here.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    _print(run_demo(args.data, max_epochs=args.epochs))
    _print_tagging(run_tagging_demo(max_epochs=args.tagging_epochs))


if __name__ == "__main__":
    main()
