"""Search over task weights with one fit per fold: :class:`TaskWeightSearchCV`."""

from __future__ import annotations

import numbers
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
from numpy.ma import MaskedArray
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.metrics import check_scoring
from sklearn.model_selection import ParameterGrid, check_cv
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils.metaestimators import available_if
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _num_samples, check_is_fitted

from ..utils import delegate_tags, final_step
from ._split import MultiTaskStratifiedKFold

__all__ = ["TaskWeightSearchCV"]

_TASK_WEIGHTS = "task_weights"


class TaskWeightSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Cross-validated search over task weights, with one fit per fold.

    A model trained with :class:`skmtl.weighting.WeightConditioned` is one
    network conditioned on the task weights: after ``fit``,
    ``set_params(task_weights=...)`` changes its predictions without refitting
    (the "You Only Train Once" idea of Dosovitskiy and Djolonga [1]_; COSMOS,
    Ruchte and Grabocka [2]_). This search uses that: on each fold it fits one
    clone of ``estimator`` on the training rows, then sets each candidate's
    task weights on that fitted clone and scores it on the test rows. The
    interface, ``cv_results_`` and the ``best_*`` attributes are those of
    :class:`~sklearn.model_selection.GridSearchCV`.

    Prefer it to ``GridSearchCV`` over ``task_weights`` when refitting for
    every candidate is too slow: it fits ``n_splits`` models (plus one refit)
    instead of ``n_candidates * n_splits``, so a fine grid of weights costs
    about as much as one candidate. The answer is not the same question,
    though: it ranks the weightings *one conditioned model* serves, not
    separately trained models with static task weights (which ``GridSearchCV``
    over an estimator with the default weighting compares). The two usually
    agree on which weighting favours which task; the scores differ.

    Parameters
    ----------
    estimator : estimator object
        A skmtl estimator (:class:`~skmtl.MultiTaskClassifier`,
        :class:`~skmtl.MultiTaskRegressor`, :class:`~skmtl.MultiTaskEstimator`,
        :class:`~skmtl.MultiTaskTagger`, :class:`~skmtl.MultiTaskSeq2Seq`) with
        ``weighting=WeightConditioned()``, or a
        :class:`~sklearn.pipeline.Pipeline` whose last step is one. It is cloned,
        never fitted itself.
    param_grid : dict or list of dict
        Task weights to try, as for ``GridSearchCV``: ``{name: list of
        values}`` or a list of such dicts (see
        :class:`~sklearn.model_selection.ParameterGrid`). Every name must be a
        task-weight parameter of the final estimator: ``task_weights`` (any
        value it accepts: a scalar, a sequence in task order, a dict by task
        name, a :class:`~skmtl.PerTask`) or ``task_weights__<task>`` (one
        task's weight; the others keep the estimator's), prefixed by
        ``<step>__`` in a Pipeline. Each candidate is set on top of the
        estimator's own ``task_weights``, as ``GridSearchCV`` sets it on a
        clone.
    scoring : str, callable, list, tuple or dict, default=None
        As in ``GridSearchCV``: None uses the estimator's ``score`` (for
        skmtl's estimators the mean over tasks of each task's default
        metric); a str or callable is one metric; a list, tuple or dict of
        them (e.g. :func:`skmtl.metrics.multitask_scorers`) is multi-metric
        scoring. The scorers see the predictions under each candidate's task
        weights; the scores are not weighted by ``sample_weight``.
    n_jobs : int, default=None
        Number of folds fitted in parallel (:class:`joblib.Parallel`). None
        means 1 unless in a :func:`joblib.parallel_backend` context; -1 means
        all processors.
    refit : bool, str or callable, default=True
        Refit one conditioned clone on the whole data and set the best
        candidate's task weights on it (``best_estimator_``), as in
        ``GridSearchCV``: with multi-metric scoring, the name of the scorer
        that picks the best candidate; a callable takes ``cv_results_`` and
        returns ``best_index_``. ``predict`` and ``score`` need it.
    cv : int, cross-validation generator or iterable, default=None
        The splits, as in ``GridSearchCV`` but resolved with
        ``check_cv(cv, y, classifier=False)``: an int is an unstratified
        :class:`~sklearn.model_selection.KFold` for every estimator (the
        classifier check of scikit-learn fails on multi-task Y with missing
        labels or mixed label types). Pass
        :class:`skmtl.model_selection.MultiTaskStratifiedKFold` for folds
        stratified over every task's labels. A dict Y is given to the
        splitter as is only when it is a ``MultiTaskStratifiedKFold``;
        other splitters get ``y=None`` (scikit-learn's splitters cannot read
        a dict), so use a DataFrame Y for a splitter that reads y.
    verbose : int, default=0
        Above 0, one line per fold (and one before the search).
    pre_dispatch : int or str, default="2*n_jobs"
        How many folds are dispatched ahead to the workers, as in
        :class:`joblib.Parallel`.
    error_score : "raise" or float, default=np.nan
        The score of every candidate on a fold whose fit fails (with a
        :class:`~sklearn.exceptions.FitFailedWarning`), or of one candidate
        whose scoring fails (with a UserWarning); ``"raise"`` re-raises the
        error. If every fold's fit fails, a ValueError is raised.
    return_train_score : bool, default=False
        Whether ``cv_results_`` also holds the scores on the training rows.

    Attributes
    ----------
    cv_results_ : dict of ndarray
        The keys and layout of ``GridSearchCV.cv_results_``: ``params``,
        ``param_<name>`` (masked arrays), ``split<i>_test_<metric>``,
        ``mean_test_<metric>``, ``std_test_<metric>``, ``rank_test_<metric>``
        (``<metric>`` is ``score`` for single-metric scoring), the train
        scores with ``return_train_score``, and ``mean_fit_time``,
        ``std_fit_time``, ``mean_score_time``, ``std_score_time``. The fit
        time of a fold is that of its one fit, so it is the same for every
        candidate; the score time is each candidate's own.
    best_estimator_ : estimator
        The clone fitted on all the data, with the best candidate's task
        weights set after the fit (``refit`` only).
    best_score_ : float
        Mean cross-validated score of the best candidate (``refit`` not a
        callable).
    best_params_ : dict
        The best candidate.
    best_index_ : int
        Its index in ``cv_results_``.
    scorer_ : callable or dict
        The scorer, or the dict of scorers for multi-metric scoring.
    n_splits_ : int
        Number of folds.
    refit_time_ : float
        Seconds spent refitting ``best_estimator_`` (``refit`` only).
    multimetric_ : bool
        Whether the scoring is multi-metric.
    classes_ : ndarray or list of ndarray
        The best estimator's classes (``refit``, classifiers only).
    n_features_in_ : int
        Number of features seen in fit (``refit``, when the estimator has it).
    feature_names_in_ : ndarray of str
        Names of the features seen in fit (``refit``, when the estimator has
        them).

    See Also
    --------
    sklearn.model_selection.GridSearchCV : One fit per candidate and fold; for
        any parameter, and for static task weights.
    skmtl.weighting.WeightConditioned : The weighting this search needs.

    Notes
    -----
    Only the task weights act on a fitted conditioned model, so only they can
    be searched here; search other parameters with ``GridSearchCV``, e.g.
    around this search (``GridSearchCV(TaskWeightSearchCV(...),
    {"estimator__learning_rate": [...]})``). Fit parameters such as
    ``sample_weight`` are passed to ``fit``, indexed to the training rows
    when they have one entry per row. The fitted clones of the folds are not
    kept.

    References
    ----------
    .. [1] A. Dosovitskiy and J. Djolonga, "You Only Train Once: Loss-Conditional
       Training of Deep Networks", ICLR 2020.
    .. [2] M. Ruchte and J. Grabocka, "Scalable Pareto Front Approximation for
       Deep Multi-Objective Learning", ICDM 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskRegressor
    >>> from skmtl.model_selection import TaskWeightSearchCV
    >>> from skmtl.weighting import WeightConditioned
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 4))
    >>> Y = np.c_[X[:, 0], X[:, 1] - X[:, 2]]
    >>> model = MultiTaskRegressor(hidden_layer_sizes=(8,), max_epochs=5, random_state=0,
    ...                            weighting=WeightConditioned(random_state=0))
    >>> grid = {"task_weights": [[0.9, 0.1], [0.5, 0.5], [0.1, 0.9]]}
    >>> search = TaskWeightSearchCV(model, grid, cv=2).fit(X, Y)
    >>> search.n_splits_, len(search.cv_results_["params"])  # 2 fits for 3 candidates
    (2, 3)
    >>> search.best_estimator_.task_weights == search.best_params_["task_weights"]
    True
    >>> search.predict(X[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        estimator,
        param_grid: Mapping | Iterable[Mapping],
        *,
        scoring: str | Callable | list | tuple | dict | None = None,
        n_jobs: int | None = None,
        refit: bool | str | Callable = True,
        cv=None,
        verbose: int = 0,
        pre_dispatch: int | str = "2*n_jobs",
        error_score: str | float = np.nan,
        return_train_score: bool = False,
    ) -> None:
        self.estimator = estimator
        self.param_grid = param_grid
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.refit = refit
        self.cv = cv
        self.verbose = verbose
        self.pre_dispatch = pre_dispatch
        self.error_score = error_score
        self.return_train_score = return_train_score

    def __sklearn_tags__(self):
        tags = delegate_tags(super().__sklearn_tags__(), self.estimator)
        return tags

    # ------------------------------------------------------------ fit

    def fit(self, X, y, groups=None, **fit_params) -> TaskWeightSearchCV:
        """Fit one conditioned model per fold and score every candidate on it.

        Parameters
        ----------
        X : array-like, sparse matrix, or list of texts / token lists
            The inputs, as the estimator takes them.
        y : array-like, DataFrame or dict
            The multi-task targets Y (NaN / None mark a missing label); a dict
            of columns is split row by row in each of its values.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group splitter (``GroupKFold``...).
        **fit_params : dict
            Passed to the estimator's ``fit`` (e.g. ``sample_weight``); those
            with one entry per row are indexed to each fold's training rows.

        Returns
        -------
        self : TaskWeightSearchCV
            The fitted search.
        """
        if y is None:
            raise ValueError(
                "TaskWeightSearchCV requires y to be passed, but the target y is None: "
                "give the multi-task targets Y."
            )
        prefix = self._check_estimator()
        candidates = self._candidates(prefix)
        # Sparse X to CSR (row indexing), array-likes without __getitem__ to arrays, as
        # GridSearchCV does; Y is taken row by row as it is (a dict Y per key).
        X, groups = indexable(X, groups)
        if not isinstance(y, Mapping):
            (y,) = indexable(y)
        self._check_settings()
        scorer = self._scorer()
        cv = check_cv(self.cv, y, classifier=False)
        dict_y = isinstance(y, Mapping) and not isinstance(cv, MultiTaskStratifiedKFold)
        y_split = None if dict_y else y
        splits, n_splits = _splits(cv, X, y_split, groups, dict_y)
        self.n_splits_ = n_splits
        base = clone(self.estimator)
        key = prefix + _TASK_WEIGHTS
        reset = {key: base.get_params(deep=True)[key]}
        _check_settable(base, reset, candidates)
        if self.verbose > 0:
            print(
                f"Fitting {n_splits} folds (one fit each) and scoring {len(candidates)} "
                f"candidates on each, totalling {n_splits} fits"
            )
        parallel = Parallel(n_jobs=self.n_jobs, pre_dispatch=self.pre_dispatch)
        folds = parallel(
            delayed(_fit_and_score_fold)(
                clone(base),
                X,
                y,
                train,
                test,
                fit_params=fit_params,
                candidates=candidates,
                reset=reset,
                scorer=scorer,
                return_train_score=self.return_train_score,
                error_score=self.error_score,
                verbose=self.verbose,
                split_progress=(i, n_splits),
            )
            for i, (train, test) in enumerate(splits)
        )
        _warn_or_raise_fit_failures(folds, self.error_score)
        results, names = _format_results(
            candidates, folds, self.error_score, self.return_train_score
        )
        self.multimetric_ = names is not None
        if self.multimetric_:
            _check_refit_for_multimetric(self.refit, names)
        self._select_best(results)
        if self.refit:
            self._refit(base, X, y, fit_params)
        multi = isinstance(self.scoring, (list, tuple, set, dict))
        self.scorer_ = _scorer_dict(self.estimator, self.scoring) if multi else scorer
        self.cv_results_ = results
        return self

    def _check_estimator(self) -> str:
        """The parameter prefix of the final estimator; a ValueError if it is not conditioned."""
        prefix, final = final_step(self.estimator)
        params = final.get_params(deep=False) if hasattr(final, "get_params") else {}
        if _TASK_WEIGHTS not in params:
            raise ValueError(
                "TaskWeightSearchCV needs a skmtl estimator (or a Pipeline whose last step is "
                f"one) with a task_weights parameter; got {type(final).__name__}."
            )
        weighting = params.get("weighting")
        if getattr(weighting, "conditions_network", False) is not True:
            raise ValueError(
                "TaskWeightSearchCV needs an estimator trained with "
                f"weighting=WeightConditioned(); {type(final).__name__} has weighting="
                f"{weighting!r}, whose network does not depend on the task weights, so they "
                "cannot change after fit. Set weighting=WeightConditioned() "
                "(skmtl.weighting.WeightConditioned), or use "
                "sklearn.model_selection.GridSearchCV, which refits for every candidate."
            )
        return prefix

    def _candidates(self, prefix: str) -> list[dict]:
        grid = ParameterGrid(self.param_grid)
        keys = {k for sub in grid.param_grid for k in sub}
        for key in sorted(keys):
            if not _is_task_weight_key(key, prefix):
                raise ValueError(
                    f"TaskWeightSearchCV searches task weights only; param_grid key {key!r} "
                    f"is not {prefix}task_weights or {prefix}task_weights__<task>. Only the "
                    "task weights act on a fitted weight-conditioned model (they choose its "
                    "condition at predict time); any other parameter changes training and "
                    "needs one fit per candidate: search it with "
                    "sklearn.model_selection.GridSearchCV."
                )
        candidates = list(grid)
        if not candidates:
            raise ValueError("param_grid has no candidate; give at least one value per key.")
        return candidates

    def _check_settings(self) -> None:
        score = self.error_score
        if isinstance(score, str):
            valid = score == "raise"
        else:
            valid = isinstance(score, numbers.Real) and not isinstance(score, bool)
        if not valid:
            raise ValueError(f"error_score must be 'raise' or a number, got {score!r}.")
        if not (isinstance(self.refit, (bool, np.bool_, str)) or callable(self.refit)):
            raise ValueError(
                f"refit must be a bool, a scorer name or a callable, got {self.refit!r}."
            )

    def _scorer(self) -> Callable:
        """The scorer to call (multi-metric for list / dict scoring, refit checked)."""
        scoring = self.scoring
        if isinstance(scoring, (list, tuple, set, dict)):
            _check_refit_for_multimetric(self.refit, list(scoring))
            raise_exc = isinstance(self.error_score, str) and self.error_score == "raise"
            return check_scoring(self.estimator, scoring, raise_exc=raise_exc)
        return check_scoring(self.estimator, scoring)

    def _select_best(self, results: dict) -> None:
        if not self.refit and self.multimetric_:
            return
        metric = self.refit if self.multimetric_ and isinstance(self.refit, str) else "score"
        if callable(self.refit):
            best = self.refit(results)
            if not isinstance(best, numbers.Integral):
                raise TypeError("best_index_ returned is not an integer")
            if best < 0 or best >= len(results["params"]):
                raise IndexError("best_index_ index out of range")
        else:
            best = results[f"rank_test_{metric}"].argmin()
            self.best_score_ = results[f"mean_test_{metric}"][best]
        self.best_index_ = int(best)
        self.best_params_ = results["params"][self.best_index_]

    def _refit(self, base, X, y, fit_params: dict) -> None:
        best = clone(base)
        start = time.time()
        best.fit(X, y, **fit_params)
        self.refit_time_ = time.time() - start
        best.set_params(**clone(self.best_params_, safe=False))
        self.best_estimator_ = best
        if hasattr(best, "feature_names_in_"):
            self.feature_names_in_ = best.feature_names_in_

    # ------------------------------------------------------------ delegation

    @available_if(lambda self: _search_estimator_has(self, "predict"))
    def predict(self, X):
        """Predict with ``best_estimator_`` (under the best task weights).

        Only available with ``refit``.
        """
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    @available_if(lambda self: _search_estimator_has(self, "predict_proba"))
    def predict_proba(self, X):
        """``predict_proba`` of ``best_estimator_`` (under the best task weights).

        Only available with ``refit``, for an estimator that has it.
        """
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    def score(self, X, y=None) -> float:
        """Score ``best_estimator_`` on X, y with ``scoring`` (the refit metric if several).

        Only available with ``refit``.
        """
        _check_refit(self, "score")
        check_is_fitted(self)
        if not self.multimetric_:
            return self.scorer_(self.best_estimator_, X, y)
        if not isinstance(self.refit, str):
            raise ValueError(
                "score needs refit set to the name of a scorer with multi-metric scoring; "
                f"refit is {self.refit!r}. Score best_estimator_ with the scorer you want."
            )
        if isinstance(self.scorer_, dict):
            return self.scorer_[self.refit](self.best_estimator_, X, y)
        return self.scorer_(self.best_estimator_, X, y)[self.refit]

    @property
    def n_features_in_(self) -> int:
        """Number of features seen in fit (with ``refit``)."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError(
                f"{type(self).__name__} object has no n_features_in_ attribute."
            ) from exc
        return self.best_estimator_.n_features_in_

    @property
    def classes_(self):
        """The best estimator's class labels (with ``refit``, classifiers only)."""
        _search_estimator_has(self, "classes_")
        return self.best_estimator_.classes_


# ---------------------------------------------------------------- checks


def _is_task_weight_key(key: str, prefix: str) -> bool:
    name = prefix + _TASK_WEIGHTS
    return key == name or (key.startswith(name + "__") and len(key) > len(name) + 2)


def _check_refit(search, attr: str) -> None:
    if not search.refit:
        raise AttributeError(
            f"This {type(search).__name__} instance was initialized with `refit=False`. "
            f"{attr} is available only after refitting on the best parameters. You can "
            "refit an estimator manually using the `best_params_` attribute"
        )


def _search_estimator_has(search, attr: str) -> bool:
    """As GridSearchCV: only with refit; the fitted best estimator, else the given one."""
    _check_refit(search, attr)
    fitted = getattr(search, "best_estimator_", None)
    getattr(search.estimator if fitted is None else fitted, attr)  # AttributeError if absent
    return True


def _check_settable(base, reset: dict, candidates: list[dict]) -> None:
    """Set every candidate on an unfitted clone: a bad one fails before any fit."""
    probe = clone(base)
    for candidate in candidates:
        try:
            probe.set_params(**reset).set_params(**candidate)
        except ValueError as exc:
            raise ValueError(f"param_grid candidate {candidate!r} cannot be set: {exc}") from exc


def _check_refit_for_multimetric(refit, names: list) -> None:
    if (
        refit is not False
        and not (isinstance(refit, str) and refit in names)
        and not callable(refit)
    ):
        raise ValueError(
            "For multi-metric scoring, the parameter refit must be set to a scorer key or a "
            "callable to refit an estimator with the best parameter setting on the whole "
            "data and make the best_* attributes available for that metric. If this is not "
            f"needed, refit should be set to False explicitly. {refit!r} was passed. The "
            f"scorer keys are {list(names)}."
        )


def _scorer_dict(estimator, scoring) -> dict:
    """``scorer_`` of multi-metric scoring: ``{name: scorer}``, as GridSearchCV's."""
    if isinstance(scoring, dict):
        return {name: check_scoring(estimator, s) for name, s in scoring.items()}
    return {name: check_scoring(estimator, name) for name in scoring}


def _splits(cv, X, y, groups, replaced: bool) -> tuple[list, int]:
    """The folds of ``cv``; ``replaced``: a dict Y was replaced by None for the splitter."""
    try:
        n_splits = cv.get_n_splits(X, y, groups)
        splits = list(cv.split(X, y, groups))
    except (TypeError, ValueError) as exc:
        if not replaced:
            raise
        raise ValueError(
            f"{type(cv).__name__} could not split with y=None ({exc}). A dict Y is given "
            "only to skmtl.model_selection.MultiTaskStratifiedKFold; scikit-learn's "
            "splitters cannot read a dict. Give Y as a DataFrame for a splitter that reads y."
        ) from exc
    if len(splits) != n_splits:
        raise ValueError(
            "cv.split and cv.get_n_splits return inconsistent results. "
            f"Expected {n_splits} splits, got {len(splits)}"
        )
    if not splits:
        raise ValueError("No fits were performed. Was the CV iterator empty?")
    return splits, n_splits


# ---------------------------------------------------------------- one fold


def _take_rows(y, rows):
    """The rows of Y: per key for a dict, ``_safe_indexing`` otherwise."""
    if isinstance(y, Mapping):
        return {key: _safe_indexing(value, rows) for key, value in y.items()}
    return _safe_indexing(y, rows)


def _fold_params(fit_params: dict, n_samples: int, rows) -> dict:
    """Fit parameters with one entry per row, indexed to ``rows``; the others as they are."""
    out = {}
    for name, value in fit_params.items():
        try:
            per_row = not isinstance(value, (str, Mapping)) and _num_samples(value) == n_samples
        except TypeError:
            per_row = False
        out[name] = _safe_indexing(value, rows) if per_row else value
    return out


def _fit_and_score_fold(
    estimator,
    X,
    y,
    train,
    test,
    *,
    fit_params: dict,
    candidates: list[dict],
    reset: dict,
    scorer: Callable,
    return_train_score: bool,
    error_score,
    verbose: int,
    split_progress: tuple[int, int],
) -> dict:
    """Fit ``estimator`` on the train rows once, then score every candidate on it."""
    X_train, y_train = _safe_indexing(X, train), _take_rows(y, train)
    params = _fold_params(fit_params, _num_samples(X), train)
    out = {"fit_error": None, "test": [], "train": [], "score_time": [0.0] * len(candidates)}
    start = time.time()
    try:
        estimator.fit(X_train, y_train, **params)
    except Exception:
        if error_score == "raise":
            raise
        out["fit_error"] = traceback.format_exc()
    out["fit_time"] = time.time() - start
    if out["fit_error"] is None:
        X_test, y_test = _safe_indexing(X, test), _take_rows(y, test)
        for k, candidate in enumerate(candidates):
            estimator.set_params(**reset).set_params(**candidate)
            start = time.time()
            out["test"].append(_score(scorer, estimator, X_test, y_test, error_score))
            out["score_time"][k] = time.time() - start
            if return_train_score:
                out["train"].append(_score(scorer, estimator, X_train, y_train, error_score))
    if verbose > 0:
        i, n = split_progress
        end = "fit failed" if out["fit_error"] else f"score_time={sum(out['score_time']):.2f}s"
        print(
            f"[CV {i + 1}/{n}] END fit_time={out['fit_time']:.2f}s, {end} "
            f"({len(candidates)} candidates)"
        )
    return out


def _score(scorer: Callable, estimator, X, y, error_score):
    """One score (a float, or a dict for multi-metric); None if a callable raised."""
    try:
        scores = scorer(estimator, X, y)
    except Exception:
        if error_score == "raise":
            raise
        _warn_scoring_failed(error_score, traceback.format_exc())
        return None
    if isinstance(scores, Mapping):
        out = {}
        for name, value in scores.items():
            if isinstance(value, str):  # the multi-metric scorer's formatted error
                _warn_scoring_failed(error_score, value)
                value = error_score
            out[name] = _as_number(value, scorer)
        return out
    return _as_number(scores, scorer)


def _as_number(value, scorer) -> float:
    if hasattr(value, "item"):
        value = value.item()
    if not isinstance(value, numbers.Number):
        raise ValueError(
            f"scoring must return a number, got {value!s} ({type(value)}) instead. "
            f"(scorer={scorer})"
        )
    return value


def _warn_scoring_failed(error_score, details: str) -> None:
    warnings.warn(
        "Scoring failed. The score on this train-test partition for these parameters "
        f"will be set to {error_score}. Details: \n{details}",
        UserWarning,
    )


def _warn_or_raise_fit_failures(folds: list[dict], error_score) -> None:
    errors = [f["fit_error"] for f in folds if f["fit_error"] is not None]
    if not errors:
        return
    details = "\n".join(
        f"{errors.count(e)} fold(s) failed with the following error:\n{e}"
        for e in dict.fromkeys(errors)
    )
    if len(errors) == len(folds):
        raise ValueError(
            f"All the {len(folds)} fits failed (one per fold). It is very likely that "
            "your model is misconfigured. You can try to debug the error by setting "
            f"error_score='raise'.\n\nBelow are more details about the failures:\n{details}"
        )
    warnings.warn(
        f"{len(errors)} fits failed out of a total of {len(folds)} (one per fold). The "
        f"scores of every candidate on these folds will be set to {error_score}. If these "
        "failures are not expected, you can try to debug them by setting "
        f"error_score='raise'.\n\nBelow are more details about the failures:\n{details}",
        FitFailedWarning,
    )


# ---------------------------------------------------------------- cv_results_


def _format_results(
    candidates: list[dict], folds: list[dict], error_score, return_train_score: bool
) -> tuple[dict, list | None]:
    """``(cv_results_, scorer names or None)``, laid out as GridSearchCV's."""
    n_candidates = len(candidates)
    results: dict[str, Any] = {}
    fit_time = np.repeat([[f["fit_time"] for f in folds]], n_candidates, axis=0)
    score_time = np.array([f["score_time"] for f in folds], dtype=np.float64).T
    _store(results, "fit_time", fit_time)
    _store(results, "score_time", score_time)
    for name, array in _param_arrays(candidates):
        results[name] = array
    results["params"] = candidates
    names = _score_names(folds)
    parts = ["test", "train"] if return_train_score else ["test"]
    tables = {part: _score_table(folds, part, names, n_candidates, error_score) for part in parts}
    for name in names or ["score"]:
        _store(results, f"test_{name}", tables["test"][name], splits=True, rank=True)
        if return_train_score:
            _store(results, f"train_{name}", tables["train"][name], splits=True)
    return results, names


def _score_names(folds: list[dict]) -> list | None:
    """The multi-metric scorer names (from the first scored candidate), None for one."""
    for fold in folds:
        for score in fold["test"]:
            if score is not None:
                return list(score) if isinstance(score, Mapping) else None
    return None


def _score_table(folds, part: str, names, n_candidates: int, error_score) -> dict:
    """``{name: (n_candidates, n_splits) array}`` of one part's scores."""
    keys = names or ["score"]
    tables = {key: np.full((n_candidates, len(folds)), np.nan) for key in keys}
    for j, fold in enumerate(folds):
        scores = fold[part] or [None] * n_candidates
        for i, score in enumerate(scores):
            for key in keys:
                if score is None:
                    value = error_score
                elif names is None:
                    value = score
                else:
                    value = score[key]
                tables[key][i, j] = value
    return tables


def _store(results: dict, key: str, array, splits: bool = False, rank: bool = False) -> None:
    """``split<i>_<key>``, ``mean_<key>``, ``std_<key>`` (and ``rank_<key>``), as sklearn."""
    array = np.asarray(array, dtype=np.float64)
    if splits:
        for j in range(array.shape[1]):
            results[f"split{j}_{key}"] = array[:, j]
    means = array.mean(axis=1)
    results[f"mean_{key}"] = means
    if key.startswith(("train_", "test_")) and np.any(~np.isfinite(means)):
        warnings.warn(
            f"One or more of the {key.split('_')[0]} scores are non-finite: {means}",
            UserWarning,
        )
    results[f"std_{key}"] = np.sqrt(((array - means[:, None]) ** 2).mean(axis=1))
    if rank:
        if np.isnan(means).all():
            ranks = np.ones_like(means, dtype=np.int32)
        else:  # NaN ties with the worst, as in GridSearchCV
            filled = np.where(np.isnan(means), np.nanmin(means) - 1, means)
            ranks = rankdata(-filled, method="min").astype(np.int32, copy=False)
        results[f"rank_{key}"] = ranks


def _param_arrays(candidates: list[dict]):
    """``(param_<name>, masked array)`` per searched name, as GridSearchCV builds them."""
    values: dict[str, dict[int, Any]] = {}
    for i, params in enumerate(candidates):
        for name, value in params.items():
            values.setdefault(f"param_{name}", {})[i] = value
    for key, by_index in values.items():
        try:
            arr = np.array(list(by_index.values()))
        except ValueError:  # sequences of different lengths
            dtype = np.dtype(object)
        else:
            dtype = arr.dtype if arr.dtype.kind != "U" and arr.ndim == 1 else np.dtype(object)
        masked = MaskedArray(np.empty(len(candidates), dtype=dtype), mask=True)
        for i, value in by_index.items():
            masked[i] = value
        yield key, masked
