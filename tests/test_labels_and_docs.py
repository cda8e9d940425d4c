"""Integer labels held in float columns stay integers; docstrings match the registries."""

from __future__ import annotations

import ast
import re

import numpy as np
import pandas as pd
import pytest

import skmtl.metrics
from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor
from skmtl.tasks import TASK_TYPES, MulticlassTask


@pytest.fixture
def X60():
    return np.random.RandomState(0).normal(size=(60, 4))


@pytest.fixture
def tiny():
    return {"hidden_layer_sizes": (8,), "max_epochs": 3, "batch_size": 32, "random_state": 0}


def _int_with_nan(X, every=7):
    """Integer labels 0, 1, 2 with NaN cells: pandas / numpy hold them as float64."""
    col = ((X[:, 0] > 0).astype(int) + (X[:, 1] > 0)).astype(float)
    col[::every] = np.nan
    return col


def _all_integers(values) -> bool:
    return all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)


# ---------------------------------------------------------------- integer labels


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_int_with_nan_frame_column_keeps_int_classes_and_predictions(X60, tiny):
    Y = pd.DataFrame(
        {
            "n": _int_with_nan(X60),
            "s": np.where(X60[:, 2] > 0, "pos", "neg").astype(object),
            "k": (X60[:, 3] > 0).astype(float),  # integral floats, no missing cell
        }
    )
    Y.loc[3, "s"] = None
    assert Y["n"].dtype == np.float64 and Y["k"].dtype == np.float64
    model = MultiTaskClassifier(**tiny).fit(X60, Y)
    for j in (0, 2):  # "n" and "k"
        assert model.classes_[j].dtype == np.int64
        assert _all_integers(model.classes_[j])
    assert model.classes_[1].tolist() == ["neg", "pos"]
    pred = model.predict(X60)
    for col in ("n", "k"):
        assert pred[col].dtype == np.int64
        assert _all_integers(pred[col].tolist())
    assert [p.shape[1] for p in model.predict_proba(X60)] == [3, 2, 2]
    # y_true as floats with NaN (1.0 for the class 1) scores, as do plain ints
    score = model.score(X60, Y)
    assert 0.0 <= score <= 1.0
    Y_int = Y.assign(k=Y["k"].astype(int))
    assert model.score(X60, Y_int) == pytest.approx(score)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_2d_float_array_with_nan_gives_int_classes_and_an_int_prediction(X60, tiny):
    # NaN in one column makes the whole array float, the other column's labels too
    Y = np.column_stack([_int_with_nan(X60), (X60[:, 2] > 0).astype(int)]).astype(float)
    model = MultiTaskClassifier(**tiny).fit(X60, Y)
    for classes in model.classes_:
        assert classes.dtype == np.int64 and _all_integers(classes)
    pred = model.predict(X60)
    assert pred.shape == (60, 2)
    assert pred.dtype == np.int64
    assert 0.0 <= model.score(X60, Y) <= 1.0
    # a 1-D float y without missing cells: int classes and predictions as well
    y = (X60[:, 0] > 0).astype(float)
    single = MultiTaskClassifier(**tiny).fit(X60, y)
    assert single.classes_.dtype == np.int64
    assert single.predict(X60).dtype == np.int64
    assert 0.0 <= single.score(X60, y) <= 1.0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_non_integral_float_labels_of_a_named_classification_task_stay_floats(X60, tiny):
    labels = np.array([0.5, 1.5, 2.5])[(X60[:, 0] > 0).astype(int) + (X60[:, 1] > 0)]
    Y = pd.DataFrame({"t": labels})
    Y.loc[::9, "t"] = np.nan
    model = MultiTaskClassifier(**tiny, tasks={"t": "multiclass"}).fit(X60, Y)
    assert model.tasks_["t"].type == "multiclass"
    assert model.classes_[0].dtype == np.float64
    assert model.classes_[0].tolist() == [0.5, 1.5, 2.5]
    pred = model.predict(X60)["t"]
    assert pred.dtype == np.float64 and set(pred) <= {0.5, 1.5, 2.5}
    enc = model.tasks_["t"].encode(Y["t"])
    assert set(enc.target[enc.labelled]) == {0, 1, 2}
    # left to inference, the same column is continuous (the classifier refuses it)
    with pytest.raises(ValueError, match="looks continuous"):
        MultiTaskClassifier(**tiny).fit(X60, Y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_non_integral_float_labels_of_a_named_classification_task_score(X60, tiny):
    Y = pd.DataFrame({"t": np.array([0.5, 1.5, 2.5])[(X60[:, 0] > 0).astype(int) + 1]})
    model = MultiTaskClassifier(**tiny, tasks={"t": "multiclass"}).fit(X60, Y)
    pred = model.predict(X60)["t"].to_numpy()
    assert model.score(X60, Y) == pytest.approx(np.mean(pred == Y["t"].to_numpy()))


def test_task_encodes_integer_labels_given_as_ints_or_floats():
    task = MulticlassTask.from_column("t", np.array([2.0, np.nan, 0.0, 1.0]))
    assert task.classes.dtype == np.int64
    for y in ([1, 2, None, 0], np.array([1.0, 2.0, np.nan, 0.0]), [1.0, 2, None, 0]):
        enc = task.encode(y)
        assert enc.target.tolist() == [1, 2, -1, 0]
    assert _all_integers(task.decode(np.eye(3)))
    with pytest.raises(ValueError, match="never seen in fit"):
        task.encode([0.5, 1.0])


# ---------------------------------------------------------------- docstrings


def _param_block(doc: str, name: str) -> str:
    """The text of one numpydoc parameter entry (its header line and description)."""
    lines = doc.expandtabs().splitlines()
    start = next(
        (i for i, line in enumerate(lines) if re.match(rf"\s*{re.escape(name)} :", line)), None
    )
    assert start is not None, f"no {name!r} parameter in the docstring"
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line)
    return "\n".join(block)


def _quoted_names(text: str) -> set[str]:
    """Names in double quotes that are not dict keys (``"type":``)."""
    return set(re.findall(r'"(\w+)"(?!\s*:)', text))


@pytest.mark.parametrize("estimator", [MultiTaskClassifier, MultiTaskRegressor, MultiTaskEstimator])
def test_tasks_parameter_docs_name_exactly_the_types_the_estimator_takes(estimator):
    block = _param_block(estimator.__doc__, "tasks")
    allowed = set(estimator._allowed_types)
    assert allowed <= set(TASK_TYPES)
    mentioned = {n for n in _quoted_names(block) if n in TASK_TYPES or n.islower()}
    mentioned -= {"type", "columns"}
    # every quoted type name is a registered type the estimator takes, and all are named
    assert mentioned == allowed, (estimator.__name__, sorted(mentioned), sorted(allowed))
    # no other registered type is mentioned, even unquoted
    others = [t for t in TASK_TYPES if t not in allowed and re.search(rf"\b{t}\b", block)]
    assert not others, (estimator.__name__, others)


def test_task_score_docs_list_every_metric_and_task_type():
    doc = skmtl.metrics.task_score.__doc__
    metric_block = _param_block(doc, "metric")
    listed = _quoted_names(metric_block)
    missing = [m for m in skmtl.metrics.METRICS if m not in listed]
    assert not missing, f"task_score's metric docs lack {missing}"
    unknown = sorted(listed - set(skmtl.metrics.METRICS))
    assert not unknown, f"task_score's metric docs name unknown metrics {unknown}"
    # every metric of the defaults and the reports is one task_score takes
    used = set(skmtl.metrics.DEFAULT_METRICS.values()).union(*skmtl.metrics.REPORT_METRICS.values())
    assert used <= set(skmtl.metrics.METRICS)
    type_block = _param_block(doc, "task_type")
    types = _quoted_names(type_block)
    assert types == set(skmtl.metrics.TASK_TYPES), sorted(types ^ set(skmtl.metrics.TASK_TYPES))
    # the metrics the examples use are documented ones
    example_metrics = _example_metrics(doc)
    assert {"accuracy", "span_f1"} <= example_metrics <= listed


def _example_metrics(doc: str) -> set[str]:
    """The ``metric`` argument of every ``task_score(...)`` call in the examples."""
    found = set()
    for line in doc.splitlines():
        code = line.strip().removeprefix(">>> ")
        if line.strip().startswith(">>> ") and "task_score(" in code:
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "task_score":
                    args = [*node.args[2:3], *(k.value for k in node.keywords if k.arg == "metric")]
                    found.update(a.value for a in args if isinstance(a, ast.Constant))
    return found
