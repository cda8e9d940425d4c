"""skmtl.plotting: the Display objects draw the data they are given, and say what is missing."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skmtl.plotting
from skmtl import MultiTaskClassifier, MultiTaskTagger
from skmtl.diagnostics import task_affinity
from skmtl.encoders import TextEncoder
from skmtl.metrics import span_scores
from skmtl.model_selection import ParetoFrontDisplay
from skmtl.plotting import (
    GradientConflictDisplay,
    HistoryDisplay,
    RelativeGainDisplay,
    SpanScoresDisplay,
    TaskAffinityDisplay,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

TASKS = ["sign", "big", "both"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    Y = pd.DataFrame(
        {
            "sign": np.where(X[:, 0] > 0, "pos", "neg"),
            "big": np.where(np.abs(X[:, 1]) > 0.7, "yes", "no"),
            "both": np.where(X[:, 0] + X[:, 1] > 0, "u", "v"),
        }
    )
    return X, Y


def _fit(X, Y, **kw):
    params = {"hidden_layer_sizes": (8,), "max_epochs": 4, "batch_size": 32, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MultiTaskClassifier(**{**params, **kw}).fit(X, Y)


@pytest.fixture(scope="module")
def clf(data):
    """Early stopping (a validation score per task) and gradient records."""
    return _fit(*data, early_stopping=True, n_iter_no_change=2, record_gradients=True)


@pytest.fixture(scope="module")
def plain(data):
    return _fit(*data)


@pytest.fixture(scope="module")
def tagging():
    rng = np.random.RandomState(0)
    words = {"PER": ["Ann", "Bob", "Eve"], "LOC": ["Paris", "Rome"], "O": ["saw", "the", "in"]}
    X, upos, ner = [], [], []
    for _ in range(40):
        sentence = [("PER", "PROPN"), ("O", "VERB"), ("LOC", "PROPN"), ("O", "ADP")]
        rng.shuffle(sentence)
        X.append([rng.choice(words[kind]) for kind, _ in sentence])
        upos.append([pos for _, pos in sentence])
        ner.append([kind if kind == "O" else f"B-{kind}" for kind, _ in sentence])
    Y = pd.DataFrame({"upos": upos, "ner": ner})
    tagger = MultiTaskTagger(
        TextEncoder(width=16, embed_dim=8, depth=1), max_epochs=2, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tagger.fit(X, Y)
    return tagger, X, Y


# ---------------------------------------------------------------- the package


def test_import_does_not_import_matplotlib():
    code = "import sys, skmtl.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_public_names():
    assert sorted(skmtl.plotting.__all__) == [
        "GradientConflictDisplay",
        "HistoryDisplay",
        "ParetoFrontDisplay",
        "RelativeGainDisplay",
        "SpanScoresDisplay",
        "TaskAffinityDisplay",
    ]
    assert skmtl.plotting.ParetoFrontDisplay is ParetoFrontDisplay


def test_clear_error_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"RelativeGainDisplay.plot requires matplotlib.*skmtl\["):
        RelativeGainDisplay({"a": 0.1}).plot()


def test_bad_ax():
    with pytest.raises(ValueError, match="ax must be a matplotlib Axes"):
        RelativeGainDisplay({"a": 0.1}).plot(ax="left")


# ---------------------------------------------------------------- HistoryDisplay


def test_history_per_task(clf):
    display = HistoryDisplay.from_estimator(clf)
    assert list(display.lines_) == TASKS
    for task, line in display.lines_.items():
        np.testing.assert_allclose(line.get_ydata(), clf.history_[:, "task_loss", task])
        np.testing.assert_array_equal(line.get_xdata(), clf.history_[:, "epoch"])
        assert line.get_label() == task
    assert display.ax_.get_xlabel() == "epoch"
    assert display.ax_.get_ylabel() == "training loss"
    assert display.figure_ is display.ax_.figure
    assert display.best_epoch_line_.get_xdata()[0] == clf.best_epoch_
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend == [*TASKS, f"best epoch ({clf.best_epoch_})"]


def test_history_validation_scalar_subset_and_ax(clf):
    fig, ax = plt.subplots()
    valid = HistoryDisplay.from_estimator(clf, metric="task_valid_score", tasks=["both"], ax=ax)
    assert valid.ax_ is ax and valid.figure_ is fig
    assert list(valid.lines_) == ["both"]
    np.testing.assert_allclose(
        valid.lines_["both"].get_ydata(), clf.history_[:, "task_valid_score", "both"]
    )
    mean = HistoryDisplay.from_estimator(clf, metric="valid_score", show_best_epoch=False, ax=ax)
    assert list(mean.lines_) == ["valid_score"] and mean.best_epoch_line_ is None
    np.testing.assert_allclose(
        mean.lines_["valid_score"].get_ydata(), clf.history_[:, "valid_score"]
    )
    assert len(ax.get_lines()) == 3  # both, its best-epoch line, valid_score


def test_history_pipeline(data):
    X, Y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(StandardScaler(), MultiTaskClassifier(max_epochs=2, random_state=0))
        pipe.fit(X, Y)
    display = HistoryDisplay.from_estimator(pipe, metric="train_loss")
    np.testing.assert_allclose(
        display.lines_["train_loss"].get_ydata(), pipe[-1].history_[:, "train_loss"]
    )
    assert display.best_epoch_line_ is None  # no early stopping


def test_history_errors(clf, plain):
    with pytest.raises(ValueError, match=r"no epoch of history_ has 'task_valid_score'.*task_loss"):
        HistoryDisplay.from_estimator(plain, metric="task_valid_score")
    with pytest.raises(ValueError, match="not per task"):
        HistoryDisplay.from_estimator(clf, metric="train_loss", tasks=["sign"])
    with pytest.raises(ValueError, match=r"unknown tasks \['nope'\]"):
        HistoryDisplay.from_estimator(clf, tasks=["nope"])
    with pytest.raises(ValueError, match="list of task names"):
        HistoryDisplay.from_estimator(clf, tasks="sign")
    with pytest.raises(NotFittedError):
        HistoryDisplay.from_estimator(MultiTaskClassifier())
    with pytest.raises(ValueError, match="one value per epoch"):
        HistoryDisplay([1, 2, 3], {"a": [0.5, 0.4]}).plot()


# ---------------------------------------------------------------- GradientConflictDisplay


def test_gradient_conflicts(clf):
    display = GradientConflictDisplay.from_estimator(clf)
    pairs = ["sign|big", "sign|both", "big|both"]
    assert list(display.lines_) == pairs
    for pair, line in display.lines_.items():
        recorded = np.array(clf.history_[:, "grad_cosine", pair])
        np.testing.assert_allclose(line.get_ydata(), recorded)
        assert display.conflict_fraction[pair] == pytest.approx(np.mean(recorded < 0))
        assert line.get_label().startswith(pair.replace("|", " vs ") + " (conflict in ")
    assert display.ax_.get_ylabel() == "gradient cosine similarity"
    assert display.zero_line_.get_ydata()[0] == 0
    assert display.conflict_region_ is not None


def test_gradient_conflicts_subset_and_ax(clf):
    fig, ax = plt.subplots()
    display = GradientConflictDisplay.from_estimator(
        clf, tasks=["both", "sign"], ax=ax, shade_conflicts=False
    )
    assert list(display.lines_) == ["sign|both"]  # in the model's task order
    assert display.ax_ is ax and display.conflict_region_ is None
    with pytest.raises(ValueError, match="two or more tasks"):
        GradientConflictDisplay.from_estimator(clf, tasks=["sign"])


def test_gradient_conflicts_need_recording(plain, data):
    with pytest.raises(
        ValueError, match=r"fitted without them: refit it with record_gradients=True"
    ):
        GradientConflictDisplay.from_estimator(plain)
    X, Y = data
    single = _fit(X, Y[["sign"]], max_epochs=1, record_gradients=True)
    with pytest.raises(ValueError, match="two or more tasks"):
        GradientConflictDisplay.from_estimator(single)


def test_conflict_fraction_ignores_nan():
    display = GradientConflictDisplay([1, 2, 3, 4], {"a|b": [0.5, -0.2, np.nan, -0.1]})
    assert display.conflict_fraction == {"a|b": pytest.approx(2 / 3)}
    assert np.isnan(GradientConflictDisplay([1], {"a|b": [np.nan]}).conflict_fraction["a|b"])


# ---------------------------------------------------------------- TaskAffinityDisplay


def test_task_affinity_from_estimator(clf, data):
    X, Y = data
    display = TaskAffinityDisplay.from_estimator(clf, X, Y, n_steps=3, random_state=0)
    expected = task_affinity(clf, X, Y, n_steps=3, random_state=0)
    np.testing.assert_allclose(display.im_.get_array(), expected.to_numpy())
    assert [t.get_text() for t in display.ax_.get_xticklabels()] == TASKS
    assert [t.get_text() for t in display.ax_.get_yticklabels()] == TASKS
    assert display.text_.shape == (3, 3)
    assert display.text_[0, 1].get_text() == format(expected.iloc[0, 1], ".2g")
    vmax = np.abs(expected.to_numpy()).max()
    assert (display.im_.norm.vmin, display.im_.norm.vmax) == pytest.approx((-vmax, vmax))
    assert display.colorbar_ is not None
    one_step = TaskAffinityDisplay.from_estimator(
        make_pipeline(clf), X, Y, n_steps=3, random_state=0
    )
    np.testing.assert_allclose(one_step.im_.get_array(), expected.to_numpy())


def test_task_affinity_from_affinity():
    A = pd.DataFrame(
        [[0.2, -0.5], [np.nan, 0.1]], index=["a", "b"], columns=["a", "b"]
    ).rename_axis(index="source", columns="target")
    before = A.copy()
    fig, ax = plt.subplots()
    display = TaskAffinityDisplay.from_affinity(
        A, ax=ax, colorbar=False, values_format=".1f", cmap="coolwarm"
    )
    pd.testing.assert_frame_equal(A, before)  # not mutated
    assert display.ax_ is ax and display.colorbar_ is None
    assert [[t.get_text() for t in row] for row in display.text_] == [
        ["0.2", "-0.5"],
        ["n/a", "0.1"],
    ]
    assert display.im_.get_cmap().name == "coolwarm"
    assert (display.im_.norm.vmin, display.im_.norm.vmax) == (-0.5, 0.5)
    bare = TaskAffinityDisplay.from_affinity(np.zeros((2, 2)), include_values=False)
    assert bare.text_ is None
    assert [t.get_text() for t in bare.ax_.get_xticklabels()] == ["0", "1"]


def test_task_affinity_errors():
    with pytest.raises(ValueError, match="square matrix"):
        TaskAffinityDisplay.from_affinity(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="same tasks, in order"):
        TaskAffinityDisplay.from_affinity(pd.DataFrame(np.zeros((2, 2)), columns=["a", "b"]))
    with pytest.raises(ValueError, match="numeric matrix"):
        TaskAffinityDisplay([["a", "b"], ["c", "d"]]).plot()
    with pytest.raises(ValueError, match="3 task_names for a 2x2"):
        TaskAffinityDisplay(np.zeros((2, 2)), task_names=["a", "b", "c"]).plot()


# ---------------------------------------------------------------- RelativeGainDisplay


def test_relative_gain_from_scores():
    mtl, st = {"a": 0.9, "b": 0.4, "c": 0.5}, {"a": 0.8, "b": 0.5, "c": 0.5}
    display = RelativeGainDisplay.from_scores(mtl, st, metrics={"a": "f1_macro"})
    widths = [bar.get_width() for bar in display.bars_]
    np.testing.assert_allclose(widths, [12.5, -20.0, 0.0])
    green, red = to_rgba("tab:green"), to_rgba("tab:red")
    assert [bar.get_facecolor() for bar in display.bars_] == [green, red, green]
    assert display.delta_m_line_.get_xdata()[0] == pytest.approx(100 * (0.125 - 0.2) / 3)
    assert [t.get_text() for t in display.ax_.get_yticklabels()] == ["a (f1_macro)", "b", "c"]
    assert [t.get_text() for t in display.texts_] == ["+12.5 %", "-20.0 %", "+0.0 %"]
    assert display.ax_.get_ylim()[0] > display.ax_.get_ylim()[1]  # the first task on top


def test_relative_gain_from_gain_and_ax():
    report = pd.DataFrame(
        {"metric": ["r2", "accuracy"], "relative_gain": [0.1, np.nan]},
        index=pd.Index(["x", "y"], name="task"),
    )
    report.attrs["delta_m"] = float("nan")
    fig, ax = plt.subplots()
    display = RelativeGainDisplay.from_gain(report, ax=ax, show_values=False, legend=False)
    assert display.ax_ is ax and display.texts_ == [] and display.delta_m_line_ is None
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x (r2)", "y (accuracy)"]
    from_dict = RelativeGainDisplay.from_gain({"delta_m": 0.05, "per_task": {"x": 0.05}})
    assert from_dict.delta_m_line_.get_xdata()[0] == pytest.approx(5.0)
    with pytest.raises(ValueError, match="no 'relative_gain' column"):
        RelativeGainDisplay.from_gain(report[["metric"]])
    with pytest.raises(ValueError, match="needs the dict of relative_gain"):
        RelativeGainDisplay.from_gain({"x": 0.1})
    with pytest.raises(ValueError, match="must be numbers"):
        RelativeGainDisplay({"x": "big"}).plot()


def test_relative_gain_from_estimator(data):
    X, Y = data
    pipe = make_pipeline(
        StandardScaler(), MultiTaskClassifier(hidden_layer_sizes=(8,), max_epochs=2, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        display = RelativeGainDisplay.from_estimator(pipe, X[:90], Y[:90], X[90:], Y[90:])
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert labels == [f"{t} (accuracy)" for t in TASKS]
    assert len(display.bars_) == 3
    assert not hasattr(pipe[-1], "module_")  # the user's estimator is not fitted


# ---------------------------------------------------------------- SpanScoresDisplay


def test_span_scores_from_predictions():
    y_true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"], None]
    y_pred = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "B-LOC"], ["O"]]
    scores = span_scores(y_true, y_pred)
    display = SpanScoresDisplay.from_predictions(y_true, y_pred, task_name="ner")
    assert list(display.bars_) == ["precision", "recall", "f1"]
    for metric, bars in display.bars_.items():
        heights = [bar.get_height() for bar in bars]
        assert heights == [scores["per_type"][t][metric] for t in ("LOC", "ORG", "PER")]
    labels = [t.get_text() for t in display.ax_.get_xticklabels()]
    assert labels == ["LOC\n(n=1)", "ORG\n(n=1)", "PER\n(n=1)"]
    assert display.micro_line_.get_ydata()[0] == pytest.approx(scores["f1"])
    assert display.ax_.get_title() == "ner: strict span scores"


def test_span_scores_options_and_errors():
    fig, ax = plt.subplots()
    display = SpanScoresDisplay(
        {"PER": {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 2}}
    ).plot(ax=ax, metrics=["f1"], show_support=False)
    assert display.ax_ is ax and list(display.bars_) == ["f1"]
    assert display.micro_line_ is None
    assert [t.get_text() for t in ax.get_xticklabels()] == ["PER"]
    with pytest.raises(ValueError, match="metrics must be some of"):
        display.plot(metrics=["accuracy"])
    with pytest.raises(ValueError, match="no entity type to plot"):
        SpanScoresDisplay.from_predictions([["O"]], [["O"]])
    with pytest.raises(ValueError, match="must be a dict with 'precision'"):
        SpanScoresDisplay({"PER": {"f1": 0.5}}).plot()


def test_span_scores_from_estimator(tagging):
    tagger, X, Y = tagging
    pred = tagger.predict(X)
    expected = span_scores(Y["ner"], pred["ner"])
    display = SpanScoresDisplay.from_estimator(tagger, X, Y)  # the only IOB2 task
    assert display.task_name == "ner"
    assert sorted(display.per_type) == sorted(expected["per_type"])
    assert len(display.bars_["f1"]) == len(expected["per_type"])
    assert [bar.get_height() for bar in display.bars_["recall"]] == [
        s["recall"] for s in expected["per_type"].values()
    ]
    same = SpanScoresDisplay.from_estimator(tagger, X, {"ner": list(Y["ner"])}, task="ner")
    assert same.per_type == display.per_type


def test_span_scores_from_estimator_errors(tagging, plain):
    tagger, X, Y = tagging
    with pytest.raises(ValueError, match=r"'upos' is not an IOB2 token task.*\['ner'\]"):
        SpanScoresDisplay.from_estimator(tagger, X, Y, task="upos")
    with pytest.raises(ValueError, match="no column for task 'ner'"):
        SpanScoresDisplay.from_estimator(tagger, X, Y[["upos"]])
    with pytest.raises(ValueError, match="dict or DataFrame keyed by task"):
        SpanScoresDisplay.from_estimator(tagger, X, list(Y["ner"]))
    with pytest.raises(ValueError, match="no IOB2 token task"):
        SpanScoresDisplay.from_estimator(plain, X, Y)
