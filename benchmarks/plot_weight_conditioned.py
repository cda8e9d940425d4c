"""The front figure of the user guide (section 17), from ``bench_weight_conditioned.py``.

Left: two regression tasks that compete for a one-unit shared bottleneck (the
synthetic problem of ``tests/test_weight_conditioned.py``): 9 static fits, one
per weighting, against one ``WeightConditioned`` fit serving the 9 weightings.
Right: UD English-EWT (UPOS + NER, seed 0) from the benchmark's JSON.
Run (needs matplotlib)::

    .venv/bin/python benchmarks/plot_weight_conditioned.py [results.json]

It reads ``benchmarks/results/weight_conditioned.json`` (or the file given) and
writes ``docs/images/weight_conditioned_fronts.png``.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "docs" / "images" / "weight_conditioned_fronts.png"


def synthetic_fronts():
    from skmtl import MultiTaskRegressor
    from skmtl.model_selection import ParetoFront
    from skmtl.weighting import WeightConditioned

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    Y = np.column_stack([X[:, 0], X[:, 1]])
    params = dict(
        hidden_layer_sizes=(8, 1),
        activation="identity",
        batch_size=32,
        max_epochs=60,
        random_state=0,
    )
    grid = [[a / 10, 1 - a / 10] for a in range(1, 10)]

    def neg_mse(model):
        return -((model.predict(X) - Y) ** 2).mean(axis=0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        static = [neg_mse(MultiTaskRegressor(**params, task_weights=w).fit(X, Y)) for w in grid]
        model = MultiTaskRegressor(**params, weighting=WeightConditioned(random_state=0))
        model.fit(X, Y)
    served = [neg_mse(model.set_params(task_weights=w)) for w in grid]
    names, metric = ["task 0", "task 1"], "- training MSE"
    return (
        ParetoFront(names, metric, grid, np.array(static)),
        ParetoFront(names, metric, grid, np.array(served)),
    )


def ewt_fronts(path: Path, seed_index: int = 0):
    from skmtl.model_selection import ParetoFront

    doc = json.loads(path.read_text())
    result = next(r for r in doc["results"] if r["dataset"] == "ewt")
    run = result["runs"][seed_index]
    tasks = result["tasks"]
    metric = {"upos": "token accuracy", "ner": "span F1"}
    fronts = {}
    for kind in ("grid", "conditioned"):
        weights = [[p["weights"][t] for t in tasks] for p in run[kind]]
        scores = [[p["test"][t] for t in tasks] for p in run[kind]]
        fronts[kind] = ParetoFront(tasks, metric, weights, np.array(scores))
    return fronts["grid"], fronts["conditioned"]


def main(argv=None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    args = argv if argv is not None else sys.argv[1:]
    results = Path(args[0]) if args else HERE / "results" / "weight_conditioned.json"
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    panels = [
        ("Bottleneck (synthetic)", synthetic_fronts()),
        ("UD EWT, UPOS + NER (test, seed 0)", ewt_fronts(results)),
    ]
    for ax, (title, (static, conditioned)) in zip(axes, panels, strict=True):
        static.plot(ax=ax, label="9 static fits (grid)", annotate=False)
        conditioned.plot(ax=ax, label="1 conditioned fit, 9 weightings", annotate=False)
        ax.set_title(title)
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=90)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
