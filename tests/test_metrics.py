"""Tests for skmtl.metrics: expected values are recomputed with sklearn / scipy
on hand-filtered (non-missing) rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, check_scoring, f1_score, r2_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multioutput import MultiOutputClassifier, MultiOutputRegressor

from skmtl.metrics import (
    DEFAULT_METRICS,
    REPORT_METRICS,
    default_metric,
    infer_task_type,
    make_task_scorer,
    multitask_scorers,
    task_report,
    task_score,
    task_scores,
    tune_thresholds,
)

MISSING = [np.nan, None, pd.NA]


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def rng():
    return np.random.RandomState(0)


def _with_missing(values, missing_rows, missing):
    cells = list(values)
    for i in missing_rows:
        cells[i] = missing
    return cells


@pytest.fixture
def mixed_Y(rng):
    """Y_true / Y_pred dicts with classification, multilabel and continuous tasks."""
    n = 30
    labels = ["a", "b", "c"]
    sent_true = rng.choice(["pos", "neg", "neu"], size=n).astype(object)
    sent_pred = np.where(rng.rand(n) < 0.7, sent_true, rng.choice(["pos", "neg", "neu"], n))
    sent_true[[1, 5, 9]] = None
    tags_true = [tuple(lab for lab in labels if rng.rand() < 0.4) for _ in range(n)]
    tags_pred = [tuple(lab for lab in labels + ["d"] if rng.rand() < 0.4) for _ in range(n)]
    tags_true[3] = None
    tags_true[4] = np.nan
    rating_true = rng.normal(size=n)
    rating_pred = rating_true + rng.normal(scale=0.5, size=n)
    rating_true[[0, 7]] = np.nan
    Y_true = {"sentiment": sent_true, "tags": tags_true, "rating": rating_true}
    Y_pred = {"sentiment": sent_pred, "tags": tags_pred, "rating": rating_pred}
    return Y_true, Y_pred


# ---------------------------------------------------------------- task_score


@pytest.mark.parametrize("missing", MISSING, ids=["nan", "None", "pd.NA"])
@pytest.mark.parametrize("as_series", [False, True])
@pytest.mark.parametrize("metric", ["accuracy", "f1_macro", "f1_micro"])
def test_classification_skips_missing(rng, missing, as_series, metric):
    y = rng.randint(0, 3, size=25)
    pred = np.where(rng.rand(25) < 0.6, y, rng.randint(0, 3, size=25))
    missing_rows = [0, 4, 11, 12]
    y_true = _with_missing(y, missing_rows, missing)
    if as_series:
        y_true = pd.Series(y_true, dtype="Int64" if missing is pd.NA else object)
    keep = np.setdiff1d(np.arange(25), missing_rows)
    expected = (
        accuracy_score(y[keep], pred[keep])
        if metric == "accuracy"
        else f1_score(y[keep], pred[keep], average=metric[3:], zero_division=0)
    )
    assert task_score(y_true, pred, metric) == pytest.approx(expected)
    # Scoring the missing rows as if they were labelled would change the result.
    assert task_score(y, pred, metric) != pytest.approx(expected)


def test_float_column_with_nan_is_classification():
    y_true = np.array([1.0, np.nan, 0.0, 1.0, 2.0])
    y_pred = np.array([1, 0, 0, 2, 2])
    assert infer_task_type(y_true) == "multiclass"
    assert task_score(y_true, y_pred, "accuracy") == pytest.approx(
        accuracy_score([1, 0, 1, 2], [1, 0, 2, 2])
    )


def test_string_labels_from_object_series():
    y_true = pd.Series(["x", None, "y", "x", pd.NA, "y"], dtype=object)
    y_pred = pd.Series(["x", "y", "x", "x", "x", "y"], dtype=object)
    expected = f1_score(["x", "y", "x", "y"], ["x", "x", "x", "y"], average="macro")
    assert task_score(y_true, y_pred, "f1_macro") == pytest.approx(expected)
    assert infer_task_type(y_true) == "binary"


@pytest.mark.parametrize("metric", ["f1_macro", "f1_micro", "f1_samples", "accuracy"])
def test_multilabel_tuples(rng, metric):
    labels = ["x", "y", "z"]
    n = 20
    Y = (rng.rand(n, 3) < 0.4).astype(int)
    P = (rng.rand(n, 4) < 0.4).astype(int)  # predictions may hold an unseen label "w"
    y_true = [tuple(lab for lab, on in zip(labels, row, strict=True) if on) for row in Y]
    # Label order inside a cell does not matter; sets and lists are fine too.
    y_pred = [
        set(lab for lab, on in zip(labels + ["w"], row, strict=True) if on)
        if i % 2
        else list(reversed([lab for lab, on in zip(labels + ["w"], row, strict=True) if on]))
        for i, row in enumerate(P)
    ]
    for i in (2, 6):
        y_true[i] = None
    keep = np.setdiff1d(np.arange(n), [2, 6])
    full_true = np.column_stack([Y, np.zeros(n, dtype=int)])  # column "w": never true
    if metric == "accuracy":
        expected = accuracy_score(full_true[keep], P[keep])
    else:
        expected = f1_score(full_true[keep], P[keep], average=metric[3:], zero_division=0)
    assert infer_task_type(y_true) == "multilabel"
    assert task_score(y_true, y_pred, metric) == pytest.approx(expected)


def test_multilabel_empty_tuple_is_a_label_not_missing():
    y_true = [(), ("a",), ()]
    y_pred = [(), ("a",), ("a",)]
    # Two empty rows take part (exact match on row 0, mismatch on row 2).
    assert task_score(y_true, y_pred, "accuracy") == pytest.approx(2 / 3)


def test_continuous_2d_block(rng):
    Y = rng.normal(size=(15, 3))
    P = Y + rng.normal(scale=0.7, size=Y.shape)
    Y_missing = Y.copy()
    Y_missing[[2, 9], 1] = np.nan  # a NaN cell masks the whole row
    keep = np.setdiff1d(np.arange(15), [2, 9])
    assert infer_task_type(Y_missing) == "continuous"
    assert task_score(Y_missing, P, "r2") == pytest.approx(r2_score(Y[keep], P[keep]))
    expected = np.mean([pearsonr(Y[keep, j], P[keep, j]).statistic for j in range(3)])
    assert task_score(Y_missing, P, "pearson") == pytest.approx(expected)


@pytest.mark.parametrize("missing", MISSING, ids=["nan", "None", "pd.NA"])
def test_continuous_1d_skips_missing(rng, missing):
    y = rng.normal(size=12)
    p = y + rng.normal(scale=0.3, size=12)
    y_true = _with_missing(y, [3, 8], missing)
    keep = np.setdiff1d(np.arange(12), [3, 8])
    assert task_score(y_true, p, "r2") == pytest.approx(r2_score(y[keep], p[keep]))
    assert task_score(y_true, p, "pearson") == pytest.approx(pearsonr(y[keep], p[keep]).statistic)


def test_integral_float_truth_with_float_predictions_is_continuous():
    y_true = np.array([1.0, 2.0, 3.0, np.nan, 5.0])
    y_pred = np.array([1.2, 1.9, 3.3, 4.0, 4.4])
    assert infer_task_type(y_true) == "multiclass"
    keep = [0, 1, 2, 4]
    assert task_score(y_true, y_pred, "r2") == pytest.approx(r2_score(y_true[keep], y_pred[keep]))


@pytest.mark.parametrize(
    "y_true, y_pred, metric, task_type",
    [
        ([0, 1, 1], [0, 1, 0], "r2", "binary"),
        ([0, 1, 2], [0, 1, 0], "pearson", "multiclass"),
        ([0, 1, 2], [0, 1, 0], "f1_samples", "multiclass"),
        ([0.5, 1.5, 2.25], [0.4, 1.0, 2.0], "accuracy", "continuous"),
        ([0.5, 1.5, 2.25], [0.4, 1.0, 2.0], "f1_macro", "continuous"),
        ([("a",), ()], [("a",), ("a",)], "r2", "multilabel"),
    ],
)
def test_metric_not_fitting_task_type(y_true, y_pred, metric, task_type):
    with pytest.raises(ValueError, match=f"(?s){metric}.*{task_type}"):
        task_score(y_true, y_pred, metric)


def test_explicit_task_type_is_checked():
    with pytest.raises(ValueError, match="r2.*'binary'"):
        task_score([0.0, 1.0, 1.0], [0.1, 0.8, 0.9], "r2", task_type="binary")
    with pytest.raises(ValueError, match="Unknown task type"):
        task_score([0, 1], [0, 1], "accuracy", task_type="regression")
    with pytest.raises(ValueError, match="Unknown metric 'auc'"):
        task_score([0, 1], [0, 1], "auc")


@pytest.mark.parametrize("missing", MISSING, ids=["nan", "None", "pd.NA"])
def test_all_missing_raises(missing):
    with pytest.raises(ValueError, match="missing"):
        task_score([missing, missing, missing], [0, 1, 0], "accuracy")


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="different lengths"):
        task_score([0, 1, 1], [0, 1], "accuracy")


def test_default_metric():
    assert DEFAULT_METRICS == {
        "binary": "accuracy",
        "multiclass": "accuracy",
        "multilabel": "f1_macro",
        "continuous": "r2",
        "sequence": "token_accuracy",
    }
    for task_type, metric in DEFAULT_METRICS.items():
        assert default_metric(task_type) == metric
    with pytest.raises(ValueError, match="Unknown task type"):
        default_metric("ranking")


# ---------------------------------------------------------------- task_scores


def _expected_scores(Y_true, Y_pred):
    s_t, s_p = Y_true["sentiment"], Y_pred["sentiment"]
    keep_s = [i for i, c in enumerate(s_t) if c is not None]
    t_t, t_p = Y_true["tags"], Y_pred["tags"]
    keep_t = [i for i, c in enumerate(t_t) if isinstance(c, tuple)]
    labels = ["a", "b", "c", "d"]

    def to_ind(cells):
        return np.array([[lab in c for lab in labels] for c in cells], dtype=int)

    r_t, r_p = Y_true["rating"], Y_pred["rating"]
    keep_r = ~np.isnan(r_t)
    return {
        "sentiment": {"accuracy": accuracy_score(s_t[keep_s].astype(str), s_p[keep_s])},
        "tags": {
            "f1_macro": f1_score(
                to_ind([t_t[i] for i in keep_t]),
                to_ind([t_p[i] for i in keep_t]),
                average="macro",
                zero_division=0,
            )
        },
        "rating": {"r2": r2_score(r_t[keep_r], r_p[keep_r])},
    }


def test_task_scores_defaults_dict_layout(mixed_Y):
    Y_true, Y_pred = mixed_Y
    scores = task_scores(Y_true, Y_pred)
    expected = _expected_scores(Y_true, Y_pred)
    assert list(scores) == ["sentiment", "tags", "rating"]
    for task, metrics in expected.items():
        assert scores[task].keys() == metrics.keys()
        for metric, value in metrics.items():
            assert scores[task][metric] == pytest.approx(value)


def test_task_scores_dataframe_layout(mixed_Y):
    Y_true, Y_pred = mixed_Y
    df_true, df_pred = pd.DataFrame(Y_true), pd.DataFrame(Y_pred)
    df_true["rating"] = df_true["rating"].astype("Float64")  # pd.NA, nullable dtype
    got, want = task_scores(df_true, df_pred), task_scores(Y_true, Y_pred)
    assert got.keys() == want.keys()
    for task in want:
        assert got[task] == pytest.approx(want[task])
    # An ndarray prediction is matched to DataFrame tasks by position.
    got_nd = task_scores(df_true, df_pred.to_numpy())
    for task in want:
        assert got_nd[task] == pytest.approx(want[task])


def test_task_scores_ndarray_layout(rng):
    Y_true = rng.randint(0, 2, size=(20, 3)).astype(float)
    Y_pred = rng.randint(0, 2, size=(20, 3))
    Y_true[[1, 2], 0] = np.nan
    Y_true[5, 2] = np.nan
    scores = task_scores(Y_true, Y_pred, metrics=["accuracy", "f1_macro"])
    assert list(scores) == ["0", "1", "2"]
    for j in range(3):
        keep = ~np.isnan(Y_true[:, j])
        assert scores[str(j)]["accuracy"] == pytest.approx(
            accuracy_score(Y_true[keep, j], Y_pred[keep, j])
        )
        assert scores[str(j)]["f1_macro"] == pytest.approx(
            f1_score(Y_true[keep, j], Y_pred[keep, j], average="macro")
        )


def test_task_scores_dict_with_2d_block_and_ndarray_prediction(rng):
    block = rng.normal(size=(10, 2))
    label = rng.randint(0, 2, size=10)
    Y_true = {"emb": block, "lab": label}
    pred_block = block + rng.normal(scale=0.5, size=block.shape)
    Y_pred = np.column_stack([pred_block, label[::-1]])
    scores = task_scores(Y_true, Y_pred)
    assert scores["emb"]["r2"] == pytest.approx(r2_score(block, pred_block))
    assert scores["lab"]["accuracy"] == pytest.approx(accuracy_score(label, label[::-1]))


def test_task_scores_metric_specs(mixed_Y):
    Y_true, Y_pred = mixed_Y
    # A global list applies each metric where it is valid.
    scores = task_scores(Y_true, Y_pred, metrics=["f1_micro", "pearson"])
    assert scores["sentiment"].keys() == {"f1_micro"}
    assert scores["tags"].keys() == {"f1_micro"}
    assert scores["rating"].keys() == {"pearson"}
    # A dict sets some tasks; the others keep their defaults.
    scores = task_scores(Y_true, Y_pred, metrics={"tags": ["f1_samples", "f1_micro"]})
    assert scores["tags"].keys() == {"f1_samples", "f1_micro"}
    assert scores["sentiment"].keys() == {"accuracy"}
    assert scores["rating"].keys() == {"r2"}
    with pytest.raises(ValueError, match="'sentiment'.*'r2'.*'multiclass'"):
        task_scores(Y_true, Y_pred, metrics={"sentiment": "r2"})


def test_task_scores_metric_valid_for_no_task():
    Y = np.array([[0, 1], [1, 1], [1, 0]])
    with pytest.raises(ValueError, match="apply to none"):
        task_scores(Y, Y, metrics="r2")
    with pytest.raises(ValueError, match="Unknown metric"):
        task_scores(Y, Y, metrics="auc")


def test_task_scores_unknown_task_name(mixed_Y):
    Y_true, Y_pred = mixed_Y
    with pytest.raises(ValueError, match=r"topic.*'sentiment', 'tags', 'rating'"):
        task_scores(Y_true, Y_pred, metrics={"topic": "accuracy"})
    with pytest.raises(ValueError, match=r"'5'.*\['0', '1'\]"):
        task_scores(np.zeros((3, 2)), np.zeros((3, 2)), metrics={"5": "r2"})


def test_task_scores_all_missing_task_names_the_task():
    Y_true = {"ok": [0, 1, 1], "empty": [None, np.nan, None]}
    Y_pred = {"ok": [0, 1, 0], "empty": [0, 1, 0]}
    with pytest.raises(ValueError, match="'empty'.*missing"):
        task_scores(Y_true, Y_pred)


def test_task_types_override():
    Y_true = {"score": [1.0, 2.0, 3.0, 4.0]}
    Y_pred = {"score": [1.0, 2.0, 3.0, 3.0]}  # integral predictions: inferred multiclass
    assert task_scores(Y_true, Y_pred)["score"].keys() == {"accuracy"}
    scores = task_scores(Y_true, Y_pred, task_types={"score": "continuous"})
    assert scores["score"]["r2"] == pytest.approx(r2_score(Y_true["score"], Y_pred["score"]))


# ---------------------------------------------------------------- task_report


def test_report_text(mixed_Y):
    Y_true, Y_pred = mixed_Y
    text = task_report(Y_true, Y_pred, digits=4)
    lines = text.splitlines()
    assert lines[0].split() == [
        "task",
        "type",
        "n_labelled",
        "accuracy",
        "f1_samples",
        "f1_macro",
        "f1_micro",
        "r2",
        "pearson",
    ]
    n_labelled = {"sentiment": 27, "tags": 28, "rating": 28}
    types = {"sentiment": "multiclass", "tags": "multilabel", "rating": "continuous"}
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows.keys() == n_labelled.keys()
    details = task_report(Y_true, Y_pred, output_dict=True)
    for task, n in n_labelled.items():
        assert rows[task][1] == types[task]
        assert rows[task][2] == str(n)
        # Metric cells are formatted with the requested digits; others are "-".
        for metric, cell in zip(lines[0].split()[3:], rows[task][3:], strict=True):
            if metric in details[task]:
                assert cell == f"{details[task][metric]:.4f}"
            else:
                assert cell == "-"


def test_report_output_dict(mixed_Y):
    Y_true, Y_pred = mixed_Y
    report = task_report(Y_true, Y_pred, output_dict=True)
    assert list(report) == ["sentiment", "tags", "rating"]
    for row in report.values():
        assert set(row) == {"type", "n_labelled", *REPORT_METRICS[row["type"]]}
        assert isinstance(row["n_labelled"], int)
    scores = task_scores(Y_true, Y_pred, metrics={"tags": ["f1_samples"], "rating": "pearson"})
    assert report["tags"]["f1_samples"] == pytest.approx(scores["tags"]["f1_samples"])
    assert report["rating"]["pearson"] == pytest.approx(scores["rating"]["pearson"])
    assert report["sentiment"]["n_labelled"] == 27


def test_report_with_metric_subset(mixed_Y):
    Y_true, Y_pred = mixed_Y
    report = task_report(Y_true, Y_pred, metrics={"rating": "r2"}, output_dict=True)
    assert set(report["rating"]) == {"type", "n_labelled", "r2"}
    text = task_report(Y_true, Y_pred, metrics="f1_macro")
    assert text.splitlines()[0].split() == ["task", "type", "n_labelled", "f1_macro"]
    assert text.splitlines()[3].split()[3] == "-"  # rating: no f1_macro


# ---------------------------------------------------------------- scorers


class CountingModel(BaseEstimator):
    """Wraps an estimator; counts predict calls; optionally returns a DataFrame."""

    n_predict = 0

    def __init__(self, estimator=None, as_frame=False):
        self.estimator = estimator
        self.as_frame = as_frame

    def fit(self, X, Y):
        self.columns_ = list(Y.columns) if hasattr(Y, "columns") else None
        self.estimator_ = clone(self.estimator).fit(X, Y)
        return self

    def predict(self, X):
        type(self).n_predict += 1
        pred = self.estimator_.predict(X)
        if self.as_frame and self.columns_ is not None:
            return pd.DataFrame(pred, columns=self.columns_)
        return pred


@pytest.fixture
def clf_data(rng):
    X = rng.normal(size=(60, 4))
    Y = np.column_stack(
        [X[:, 0] + 0.3 * rng.normal(size=60) > 0, X[:, 1] - X[:, 2] + 0.3 * rng.normal(size=60) > 0]
    ).astype(int)
    return X, Y


def test_make_task_scorer_matches_task_score(clf_data):
    X, Y = clf_data
    model = MultiOutputClassifier(LogisticRegression()).fit(X[:40], Y[:40])
    pred = model.predict(X[40:])
    scorer = make_task_scorer("1", "f1_macro")
    assert scorer(model, X[40:], Y[40:]) == pytest.approx(
        f1_score(Y[40:, 1], pred[:, 1], average="macro")
    )
    with pytest.raises(ValueError, match=r"Unknown task '7'.*\['0', '1'\]"):
        make_task_scorer("7", "accuracy")(model, X[40:], Y[40:])
    with pytest.raises(ValueError, match="Unknown metric"):
        make_task_scorer("0", "auc")


def test_multitask_scorers_keys():
    scorers = multitask_scorers({"a": "accuracy", "b": ["r2", "pearson"]})
    assert list(scorers) == ["a_accuracy", "b_r2", "b_pearson", "mean"]
    with pytest.raises(ValueError):
        multitask_scorers({})
    with pytest.raises(ValueError, match="Unknown metric"):
        multitask_scorers({"a": "precision"})


def test_grid_search_classifier_refit_mean(clf_data):
    X, Y = clf_data
    cv = KFold(3, shuffle=True, random_state=0)
    scoring = multitask_scorers({"0": "accuracy", "1": ["accuracy", "f1_macro"]})
    grid = {"estimator__C": [0.001, 0.1, 10.0]}
    search = GridSearchCV(
        MultiOutputClassifier(LogisticRegression()),
        grid,
        cv=cv,
        scoring=scoring,
        refit="mean",
        error_score="raise",
    ).fit(X, Y)
    res = search.cv_results_
    per_task = ["0_accuracy", "1_accuracy", "1_f1_macro"]
    mean_of_tasks = np.mean([res[f"mean_test_{k}"] for k in per_task], axis=0)
    np.testing.assert_allclose(res["mean_test_mean"], mean_of_tasks)
    assert search.best_index_ == int(np.argmax(res["mean_test_mean"]))
    assert search.best_score_ == pytest.approx(res["mean_test_mean"].max())
    # Recompute split 0 of the second candidate independently.
    train, test = next(cv.split(X))
    model = MultiOutputClassifier(LogisticRegression(C=0.1)).fit(X[train], Y[train])
    pred = model.predict(X[test])
    assert res["split0_test_1_f1_macro"][1] == pytest.approx(
        f1_score(Y[test, 1], pred[:, 1], average="macro")
    )
    assert res["split0_test_0_accuracy"][1] == pytest.approx(accuracy_score(Y[test, 0], pred[:, 0]))


@pytest.mark.parametrize("as_frame", [False, True])
def test_grid_search_dataframe_task_names(clf_data, as_frame):
    X, Y = clf_data
    Y_df = pd.DataFrame(Y, columns=["spam", "urgent"])
    cv = KFold(2, shuffle=True, random_state=1)
    scoring = multitask_scorers({"spam": "accuracy", "urgent": "f1_micro"})
    model = CountingModel(MultiOutputClassifier(LogisticRegression()), as_frame=as_frame)
    search = GridSearchCV(
        model,
        {"estimator__estimator__C": [0.01, 1.0]},
        cv=cv,
        scoring=scoring,
        refit="mean",
        error_score="raise",
    ).fit(X, Y_df)
    res = search.cv_results_
    assert {"mean_test_spam_accuracy", "mean_test_urgent_f1_micro", "mean_test_mean"} <= set(res)
    train, test = next(cv.split(X))
    pred = MultiOutputClassifier(LogisticRegression(C=1.0)).fit(X[train], Y[train]).predict(X[test])
    assert res["split0_test_urgent_f1_micro"][1] == pytest.approx(
        f1_score(Y[test, 1], pred[:, 1], average="micro")
    )
    assert res["split0_test_spam_accuracy"][1] == pytest.approx(
        accuracy_score(Y[test, 0], pred[:, 0])
    )


def test_grid_search_regressor(rng):
    X = rng.normal(size=(50, 3))
    Y = np.column_stack([X @ [1.0, -2.0, 0.5], X[:, 0] ** 2]) + 0.1 * rng.normal(size=(50, 2))
    cv = KFold(2, shuffle=True, random_state=0)
    scoring = multitask_scorers({"0": ["r2", "pearson"], "1": "r2"})
    search = GridSearchCV(
        MultiOutputRegressor(Ridge()),
        {"estimator__alpha": [0.1, 1000.0]},
        cv=cv,
        scoring=scoring,
        refit="mean",
        error_score="raise",
    ).fit(X, Y)
    res = search.cv_results_
    train, test = next(cv.split(X))
    pred = MultiOutputRegressor(Ridge(alpha=1000.0)).fit(X[train], Y[train]).predict(X[test])
    assert res["split0_test_0_r2"][1] == pytest.approx(r2_score(Y[test, 0], pred[:, 0]))
    assert res["split0_test_0_pearson"][1] == pytest.approx(
        pearsonr(Y[test, 0], pred[:, 0]).statistic
    )
    expected_mean = np.mean([res[f"mean_test_{k}"] for k in ("0_r2", "0_pearson", "1_r2")], axis=0)
    np.testing.assert_allclose(res["mean_test_mean"], expected_mean)
    assert search.best_params_ == {"estimator__alpha": 0.1}


def test_predict_called_once_per_scoring(clf_data):
    X, Y = clf_data
    scoring = multitask_scorers({"0": ["accuracy", "f1_macro"], "1": ["f1_micro"]})
    model = CountingModel(MultiOutputClassifier(LogisticRegression())).fit(X, Y)
    multi = check_scoring(model, scoring=scoring)
    CountingModel.n_predict = 0
    scores = multi(model, X, Y)
    assert CountingModel.n_predict == 1
    assert set(scores) == set(scoring)

    CountingModel.n_predict = 0
    n_splits, n_candidates = 3, 2
    GridSearchCV(
        CountingModel(MultiOutputClassifier(LogisticRegression())),
        {"as_frame": [False, True]},
        cv=n_splits,
        scoring=scoring,
        refit="mean",
        error_score="raise",
    ).fit(X, Y)
    assert CountingModel.n_predict == n_splits * n_candidates


# ---------------------------------------------------------------- tune_thresholds


def _brute_force_thresholds(Y, proba, grid):
    out = []
    for k in range(Y.shape[1]):
        if not Y[:, k].any():
            out.append(0.5)
            continue
        f1s = np.array([f1_score(Y[:, k], proba[:, k] >= t, zero_division=0) for t in grid])
        best = np.flatnonzero(np.isclose(f1s, f1s.max()))
        out.append(min(grid[best], key=lambda t: (abs(t - 0.5), t)))
    return np.array(out)


def test_tune_thresholds_recovers_known_threshold(rng):
    n = 200
    Y = (rng.rand(n, 3) < 0.4).astype(int)
    Y[:, 2] = 0  # no positives -> 0.5
    proba = rng.rand(n, 3)
    # Label 0: perfectly separable at 0.3 (positives above, negatives below).
    proba[:, 0] = np.where(Y[:, 0], rng.uniform(0.31, 1.0, n), rng.uniform(0.0, 0.29, n))
    # Label 1: separable at 0.8.
    proba[:, 1] = np.where(Y[:, 1], rng.uniform(0.81, 1.0, n), rng.uniform(0.0, 0.79, n))
    thresholds = tune_thresholds(Y, proba)
    np.testing.assert_allclose(thresholds, [0.3, 0.8, 0.5])
    # A custom grid agrees with an independent brute force over sklearn's f1_score.
    grid = np.array([0.1, 0.2, 0.3, 0.7, 0.9])
    np.testing.assert_allclose(
        tune_thresholds(Y, proba, grid=grid), _brute_force_thresholds(Y, proba, grid)
    )


def test_tune_thresholds_tie_goes_to_half():
    Y = np.array([[1], [1], [0], [0]])
    proba = np.array([[0.9], [0.85], [0.1], [0.05]])  # any threshold in (0.1, 0.85] is perfect
    assert tune_thresholds(Y, proba)[0] == pytest.approx(0.5)
    # Optimal set (0.1, 0.4] lies below 0.5: its value closest to 0.5 wins.
    proba = np.array([[0.4], [0.45], [0.1], [0.05]])
    assert tune_thresholds(Y, proba)[0] == 0.4
    # Optimal set (0.6, 0.9] lies above 0.5: its smallest grid value wins.
    proba = np.array([[0.9], [0.95], [0.6], [0.05]])
    assert tune_thresholds(Y, proba)[0] == 0.65


def test_tune_thresholds_matches_brute_force_on_noisy_data(rng):
    Y = (rng.rand(80, 4) < 0.3).astype(int)
    proba = np.clip(0.35 * Y + rng.rand(80, 4) * 0.7, 0, 1)
    grid = np.linspace(0.05, 0.95, 19)
    np.testing.assert_allclose(tune_thresholds(Y, proba), _brute_force_thresholds(Y, proba, grid))


def test_tune_thresholds_label_tuples_and_missing_rows(rng):
    labels = ["x", "y", "z"]
    Y = (rng.rand(50, 3) < 0.4).astype(int)
    proba = np.clip(0.3 * Y + rng.rand(50, 3) * 0.7, 0, 1)
    cells = [tuple(lab for lab, on in zip(labels, row, strict=True) if on) for row in Y]
    cells[0] = None  # skipped
    keep = np.arange(1, 50)
    expected = tune_thresholds(Y[keep], proba[keep])
    np.testing.assert_allclose(tune_thresholds(cells, proba, labels=labels), expected)
    # Column order follows `labels`.
    np.testing.assert_allclose(
        tune_thresholds(cells, proba[:, ::-1], labels=labels[::-1]), expected[::-1]
    )
    # sklearn multi-output predict_proba: a list of (n, 2) arrays.
    proba_list = [np.column_stack([1 - proba[keep, k], proba[keep, k]]) for k in range(3)]
    np.testing.assert_allclose(tune_thresholds(Y[keep], proba_list), expected)
    with pytest.raises(ValueError, match="labels"):
        tune_thresholds(cells, proba)
    with pytest.raises(ValueError, match="not in labels"):
        tune_thresholds(cells, proba[:, :2], labels=["x", "y"])


# -- sequence (tagging) tasks ----------------------------------------------------------


def test_sequence_metrics_match_seqeval_and_skip_missing():
    seqeval = pytest.importorskip("seqeval.metrics")
    from seqeval.scheme import IOB2

    y_true = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"], None, ["I-LOC", "O"]]
    y_pred = [["B-PER", "I-PER", "O", "O"], ["O", "B-ORG"], ["B-PER"], ["B-LOC", "O"]]
    kept_true = [t for t in y_true if t is not None]
    kept_pred = [p for t, p in zip(y_true, y_pred, strict=True) if t is not None]
    for metric, reference in [
        ("span_f1", seqeval.f1_score),
        ("span_precision", seqeval.precision_score),
        ("span_recall", seqeval.recall_score),
    ]:
        expected = reference(kept_true, kept_pred, mode="strict", scheme=IOB2)
        assert task_score(y_true, y_pred, metric) == pytest.approx(expected)
    assert task_score(y_true, y_pred, "token_accuracy") == pytest.approx(6 / 8)


@pytest.mark.parametrize(
    "y_true, y_pred, match",
    [
        ([["O", "O"]], [["O"]], "Row 0: 2 true tags but 1 predicted"),
        ([None, None], [["O"], ["O"]], "Every y_true cell is missing"),
        ([["O"]], [["O"], ["O"]], "different lengths"),
        (["O O"], ["O O"], "Row 0: a sequence task's cells must be lists"),
    ],
)
def test_sequence_metric_bad_input(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        task_score(y_true, y_pred, "span_f1")


def test_sequence_metric_rejects_another_task_type():
    with pytest.raises(ValueError, match=r"applies to a tag-sequence \('token'\) task"):
        task_score([["O"]], [["O"]], "span_f1", task_type="multilabel")


def test_task_report_on_sequence_tasks():
    Y = pd.DataFrame({"ner": [["B-PER", "O"], ["O"]], "sentiment": ["pos", "neg"]})
    P = pd.DataFrame({"ner": [["B-PER", "O"], ["B-LOC"]], "sentiment": ["pos", "pos"]})
    scores = task_scores(Y, P, task_types={"ner": "sequence"})
    assert scores["ner"] == {"token_accuracy": pytest.approx(2 / 3)}
    assert scores["sentiment"] == {"accuracy": 0.5}
    report = task_report(Y, P, task_types={"ner": "sequence"}, output_dict=True)
    assert report["ner"] == pytest.approx(
        {
            "type": "sequence",
            "n_labelled": 2,
            "token_accuracy": 2 / 3,
            "span_precision": 0.5,
            "span_recall": 1.0,
            "span_f1": 2 / 3,
        }
    )
    # a sequence metric named for a task implies its type
    assert task_scores(Y, P, metrics={"ner": "span_f1", "sentiment": "accuracy"})["ner"] == {
        "span_f1": pytest.approx(2 / 3)
    }
