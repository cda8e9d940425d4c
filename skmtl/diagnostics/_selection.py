"""Auxiliary-task selection for one target task: a ranking and a meta-estimator."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted
from torch.func import functional_call

from .._params import PerTask, is_scalar
from ..engine import Engine, to_device
from ..metrics import task_score
from ..tasks import columns_for, split_targets
from ..utils import delegate_tags, missing_mask

__all__ = ["AuxiliaryTaskSelector", "rank_auxiliary_tasks"]

_METHODS = ("affinity", "cosine")


# ---------------------------------------------------------------- ranking


def rank_auxiliary_tasks(
    estimator,
    X,
    y,
    target: str | int,
    *,
    candidates: Sequence[str | int] | None = None,
    method: str = "affinity",
    n_steps: int = 50,
    lookahead_lr: float | None = None,
    random_state=None,
) -> pd.DataFrame:
    """Rank candidate auxiliary tasks by how much they help one target task.

    The target's labelled rows are split in two random halves. For each
    half, a clone of ``estimator`` is trained on the target and the
    candidates together, with that half's target labels held out (for the
    estimator's ``max_epochs`` epochs, without early stopping), and batches
    spread evenly over its epochs (``n_steps`` in all) measure, for each
    candidate ``a`` and with respect to the shared (trunk) parameters ``θ``,
    how a step on ``a`` acts on the target's loss ``L_t`` *on its held-out
    labels*:

    * ``affinity``: the lookahead affinity ``Z[a -> target]`` of
      :func:`~skmtl.diagnostics.task_affinity` (Fifty et al., 2021), the
      relative drop of the target's loss after one SGD step on ``a``'s loss
      alone::

          Z[a -> t] = 1 - L_t(θ - lr ∇_θ L_a) / L_t(θ)

      Positive: a step for ``a`` also lowers the target's loss.
    * ``cosine``: the cosine similarity of ``∇_θ L_a`` and ``∇_θ L_t`` (Du
      et al., 2018), as ``record_gradients=True`` records it between two
      tasks. Positive: ``a``'s gradient points where the target's does.

    ``method`` says which one ranks the candidates.

    Parameters
    ----------
    estimator : multi-task estimator
        A skmtl estimator (:class:`~skmtl.MultiTaskClassifier`,
        :class:`~skmtl.MultiTaskRegressor`, :class:`~skmtl.MultiTaskEstimator`,
        :class:`~skmtl.MultiTaskTagger`, ...): only its parameters are used
        (it is cloned, never fitted or modified; a fitted one is not
        measured at its current weights). Its per-task parameters
        (``tasks``, ``task_weights``, ``class_weight``, ``threshold``,
        ``min_labels``) are restricted to the target and the candidates.
    X : array-like, sparse matrix or list of str
        Inputs, as in ``fit``.
    y : 2-D array, DataFrame or dict
        Targets of the target task and of the candidates (other tasks in
        ``y`` are ignored), as in ``fit``; missing labels are allowed. A
        2-D array's tasks are named ``"0"``, ``"1"``, ...
    target : str or int
        The name of the target task (a 2-D array's column index, as an
        int or a str).
    candidates : list of str or int, default=None
        The names of the candidate auxiliary tasks; None: every task of
        ``y`` but the target.
    method : {"affinity", "cosine"}, default="affinity"
        Which measure ranks the candidates (both are reported).
    n_steps : int, default=50
        Number of measured batches.
    lookahead_lr : float, default=None
        Step size of the lookahead SGD step of the affinity; None uses the
        estimator's ``learning_rate``.
    random_state : int, RandomState instance or None, default=None
        Seeds the clone's training and the batch sampling.

    Returns
    -------
    ranking : DataFrame
        One row per candidate (index ``task``), best first, with columns
        ``score`` (what the ranking sorts by: the ``method``'s measure),
        ``affinity`` and ``cosine`` (the means over the batches where the
        task and the target both had a label), ``n_batches`` (the number of
        those batches) and ``rank`` (1 is best). A candidate never measured
        has NaN measures and comes last. ``ranking.attrs`` holds ``target``
        and ``method``.

    Raises
    ------
    ValueError
        For a ``y`` with a single task, an unknown target or candidate, the
        target among the candidates, no candidate, a repeated candidate, an
        unknown ``method``, or a target without any label.

    See Also
    --------
    AuxiliaryTaskSelector : Fit the target with the best-ranked candidates.
    skmtl.diagnostics.task_affinity : The affinity between every pair of tasks.

    Notes
    -----
    Why held-out labels: the target of interest usually has few labels,
    which the network soon memorises. On those training labels, any task
    that makes the rows easier to tell apart (a task of random labels the
    network memorises, say) lowers the target's loss and would look helpful;
    on labels the network has not trained on, only a task that carries
    over to new rows does. Every labelled row of the target is held out in
    one of the two runs, and the measures average over both. Each measured
    batch holds ``batch_size`` rows: the held-out target rows (up to half
    the batch, or their share of all rows if larger) and rows drawn from the
    others, where the candidates' losses are measured.

    The network is in eval mode during the measurements (no dropout,
    frozen batch-norm statistics), and the lookahead is evaluated with
    :func:`torch.func.functional_call`: the training is not changed. The
    ranking costs two trainings of the estimator plus, per measured batch,
    one backward pass per task and one forward pass per candidate.

    Both measures are local: they tell whether a candidate's updates agree
    with the target's in the shared layers. A task that shares the target's
    latent features scores above the others; a task unrelated to the
    target scores near 0, and a task whose labels are noise near or below
    0 (its large, unaligned steps raise the target's loss). The affinity
    is, to first order, proportional to ``lookahead_lr`` (a larger step
    also weighs the harm of large unaligned steps more); the cosine is in
    [-1, 1]. Only compare scores measured the same way.

    References
    ----------
    C. Fifty, E. Amid, Z. Zhao, T. Yu, R. Anil, C. Finn. "Efficiently
    Identifying Task Groupings in Multi-Task Learning". NeurIPS 2021.

    Y. Du, W. M. Czarnecki, S. M. Jayakumar, M. Farajtabar, R. Pascanu,
    B. Lakshminarayanan. "Adapting Auxiliary Losses Using Gradient
    Similarity". arXiv:1812.02224, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skmtl import MultiTaskClassifier
    >>> from skmtl.diagnostics import rank_auxiliary_tasks
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(600, 10))
    >>> s = X[:, 0] - X[:, 1] + 0.5 * X[:, 2]
    >>> y = pd.DataFrame({
    ...     "target": np.where(s > 0, "pos", "neg"),
    ...     "helpful": np.digitize(s, [-1, 0, 1]),  # the same latent feature, finer
    ...     "noise": rng.randint(400, size=600),  # random labels
    ... })
    >>> y_train = y.iloc[:400].copy()
    >>> y_train.loc[40:, "target"] = None  # 40 target labels; every row has the others
    >>> clf = MultiTaskClassifier(hidden_layer_sizes=(32,), learning_rate=0.01,
    ...                           batch_size=64, max_epochs=20, random_state=0)
    >>> ranking = rank_auxiliary_tasks(clf, X[:400], y_train, "target", random_state=0)
    >>> list(ranking.columns)
    ['score', 'affinity', 'cosine', 'n_batches', 'rank']
    >>> ranking.index.tolist()
    ['helpful', 'noise']
    >>> bool(ranking.loc["helpful", "cosine"] > 0.1)
    True
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    _check_n_steps(n_steps)
    if lookahead_lr is not None:
        _check_lookahead_lr(lookahead_lr)
    _check_is_multitask_estimator(estimator)
    groups, layout = _task_columns(estimator, y)
    target, candidates = _check_target_candidates(groups, target, candidates)
    rng = check_random_state(random_state)
    lr = float(estimator.learning_rate if lookahead_lr is None else lookahead_lr)
    kept = [t for t in groups if t == target or t in candidates]
    sub_y = _select_tasks(y, layout, groups, kept)
    model = clone(estimator).set_params(**_restricted_params(estimator, list(groups), kept))
    folds = _target_folds(sub_y, groups, kept, target, rng)
    epochs = max(int(estimator.max_epochs), 1)
    model.set_params(warm_start=True, early_stopping=False, max_epochs=1)
    sums = np.zeros((len(candidates), 2))
    counts = np.zeros(len(candidates), dtype=int)
    for fold_steps, (held_out, train_weight, measure_weight) in zip(
        np.array_split(np.arange(n_steps), len(folds)), folds, strict=True
    ):
        if not len(fold_steps):
            continue
        run = clone(model)
        data = pools = None
        for steps in _spread(len(fold_steps), epochs):
            run.set_params(random_state=int(rng.randint(np.iinfo(np.int32).max)))
            run.fit(X, sub_y, sample_weight=train_weight)
            if not steps:
                continue
            if data is None:
                data = run.prepare_data(X, sub_y, sample_weight=measure_weight)
                pools = (held_out, np.setdiff1d(np.arange(len(data)), held_out))
            _measure(run, data, pools, target, candidates, steps, lr, rng, sums, counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], np.nan)
    scores = means[:, _METHODS.index(method)]
    order = sorted(range(len(candidates)), key=lambda i: (bool(np.isnan(scores[i])), -scores[i], i))
    ranking = pd.DataFrame(
        {
            "score": scores[order],
            "affinity": means[order, 0],
            "cosine": means[order, 1],
            "n_batches": counts[order],
            "rank": np.arange(1, len(order) + 1),
        },
        index=pd.Index([candidates[i] for i in order], name="task"),
    )
    ranking.attrs.update(target=target, method=method)
    return ranking


def _target_folds(y, groups: dict, kept: list[str], target: str, rng, n_folds: int = 2):
    """Two halves of the target's labelled rows, each held out of one training run.

    Returns, for each half, its rows and the ``(n_samples, n_tasks)`` sample
    weights of the run that holds it out (0 for the target on those rows) and
    of its measurements (the target's loss on those rows only).
    """
    _, columns = split_targets(y)
    cols = [str(c) for c in groups[target]]
    missing = np.any([missing_mask(np.asarray(columns[c], dtype=object)) for c in cols], axis=0)
    labelled = np.flatnonzero(~missing)
    if len(labelled) < n_folds:
        raise ValueError(
            f"The target task {target!r} has {len(labelled)} labelled row(s); the ranking "
            f"needs at least {n_folds} (it measures the target's loss on labels held out of "
            "training)."
        )
    it = kept.index(target)
    folds = []
    for held_out in np.array_split(rng.permutation(labelled), n_folds):
        held_out = np.sort(held_out)
        train = np.ones((len(missing), len(kept)))
        train[held_out, it] = 0.0
        measure = np.ones_like(train)
        measure[:, it] = 0.0
        measure[held_out, it] = 1.0
        folds.append((held_out, train, measure))
    return folds


def _spread(n_steps: int, epochs: int) -> np.ndarray:
    """How many of ``n_steps`` measurements follow each of ``epochs`` epochs: as even as
    possible, the last epoch always measured."""
    after = -(-(np.arange(1, n_steps + 1) * epochs) // n_steps) - 1  # ceil(j E / n) - 1
    return np.bincount(after, minlength=epochs)


def _draw_batch(pools, batch: int, rng) -> np.ndarray:
    """``batch`` rows, ``max(batch // 2, their share)`` of them labelled for the target."""
    labelled, other = pools
    n = len(labelled) + len(other)
    share = int(round(batch * len(labelled) / n))
    k = min(len(labelled), max(batch // 2, share))
    rest = min(batch - k, len(other))
    k = min(len(labelled), batch - rest)
    rows = np.concatenate(
        [rng.choice(labelled, size=k, replace=False), rng.choice(other, size=rest, replace=False)]
    )
    return np.sort(rows)


def _flat(grads, params) -> torch.Tensor:
    return torch.cat(
        [
            (torch.zeros_like(p) if g is None else g.to_dense() if g.is_sparse else g).reshape(-1)
            for g, p in zip(grads, params, strict=True)
        ]
    )


def _measure(model, data, pools, target, candidates, n_steps, lr, rng, sums, counts) -> None:
    """Add the affinity and cosine of each candidate on ``n_steps`` batches to ``sums``."""
    module, device = model.module_, model.device_
    tasks = list(model.tasks_.values())
    names = [t.name for t in tasks]
    engine = Engine(
        module, tasks, weighting=None, optimizer=None, sampler=None, max_epochs=0, device=device
    )
    shared_ids = {id(p) for p in module.shared_parameters()}
    shared_names = [name for name, p in module.named_parameters() if id(p) in shared_ids]
    by_name = dict(module.named_parameters())
    shared = [by_name[name] for name in shared_names]
    if not shared:
        return
    it = names.index(target)
    batch = min(int(model.batch_size), len(data))
    modes = {m: m.training for m in module.modules()}
    flags = [p.requires_grad for p in shared]
    try:
        module.eval()
        for p in shared:  # a frozen trunk still gets measured
            p.requires_grad_(True)
        for _ in range(n_steps):
            rows = _draw_batch(pools, batch, rng)
            engine.prepare(data.take(rows))
            m = len(rows)
            x = to_device(engine.data.inputs.batch(0, m), device)
            targets = {t: v.rows(0, m) for t, v in engine.tensors.items()}
            with torch.enable_grad():
                losses, present = engine.get_loss(module(x), x, targets)
                before = float(losses[it].detach())
                if not bool(present[it]) or not before > 0:
                    continue
                g_t = _flat(
                    torch.autograd.grad(losses[it], shared, retain_graph=True, allow_unused=True),
                    shared,
                )
                norm_t = g_t.double().norm()
                for i, a in enumerate(candidates):
                    ia = names.index(a)
                    if not bool(present[ia]):
                        continue
                    grads = torch.autograd.grad(
                        losses[ia], shared, retain_graph=True, allow_unused=True
                    )
                    g_a = _flat(grads, shared)
                    norm_a = g_a.double().norm()
                    cosine = 0.0
                    if norm_a > 0 and norm_t > 0:
                        cosine = float(
                            (g_a.double() @ g_t.double() / (norm_a * norm_t)).clamp(-1, 1)
                        )
                    stepped = {
                        name: p
                        if g is None
                        else p.detach() - lr * (g.to_dense() if g.is_sparse else g)
                        for name, p, g in zip(shared_names, shared, grads, strict=True)
                    }
                    with torch.no_grad():
                        after, _ = engine.get_loss(
                            functional_call(module, stepped, (x,)), x, targets
                        )
                    sums[i] += (1.0 - float(after[it]) / before, cosine)
                    counts[i] += 1
    finally:
        for p, flag in zip(shared, flags, strict=True):
            p.requires_grad_(flag)
        for m_, mode in modes.items():
            m_.training = mode


# ---------------------------------------------------------------- selector


def _estimator_has(attr: str):
    """As scikit-learn's meta-estimators: the fitted ``estimator_``, else ``estimator``."""

    def check(self) -> bool:
        getattr(self.estimator_ if hasattr(self, "estimator_") else self.estimator, attr)
        return True

    return check


class AuxiliaryTaskSelector(MetaEstimatorMixin, BaseEstimator):
    """Fit a target task together with the auxiliary tasks that help it.

    ``fit`` ranks the candidate auxiliary tasks with
    :func:`rank_auxiliary_tasks` (lookahead affinity, Fifty et al., 2021, or
    gradient cosine, Du et al., 2018), keeps those whose score is above
    ``min_score`` (at most ``max_tasks``, best first) and fits a clone of
    ``estimator`` on the target plus the kept tasks. A task that hurts the
    target (its updates raise the target's loss on held-out target labels,
    as those of a task of random labels do) scores below 0 and is left out.
    A task measured near 0 may go either way: raise ``min_score`` to keep
    only the tasks with a clear signal, or tune ``max_tasks`` / ``min_score``
    by cross-validation (``score`` is the target's).

    Parameters
    ----------
    estimator : multi-task estimator
        A skmtl estimator (cloned, never fitted itself). Its parameters are
        searchable as ``estimator__<param>`` (e.g.
        ``estimator__learning_rate``); its per-task parameters are
        restricted to the tasks each fit trains on.
    target : str
        The name of the target task (a column of ``y``).
    candidates : list of str, default=None
        The candidate auxiliary tasks; None: every task of ``y`` but the
        target. Tasks of ``y`` that are not candidates are never trained on.
    method : {"affinity", "cosine"}, default="affinity"
        The ranking's measure (see :func:`rank_auxiliary_tasks`).
    max_tasks : int, default=None
        Keep at most this many auxiliary tasks (0: the target alone; None:
        no limit).
    min_score : float, default=0.0
        Keep only the candidates whose score is greater (a NaN score is
        never kept). The default keeps the tasks measured to help.
    n_steps : int, default=50
        Number of batches the ranking averages over.
    lookahead_lr : float, default=None
        Lookahead step size of the affinity; None: the estimator's
        ``learning_rate``.
    random_state : int, RandomState instance or None, default=None
        Seeds the ranking (the final fit uses the estimator's own
        ``random_state``).

    Attributes
    ----------
    ranking_ : DataFrame
        The ranking of the candidates (see :func:`rank_auxiliary_tasks`),
        with a bool column ``selected``.
    selected_tasks_ : list of str
        The kept auxiliary tasks, best first.
    target_ : str
        The target task's name.
    estimator_ : estimator
        The clone of ``estimator`` fitted on the target and the kept tasks.
    n_features_in_ : int
        Number of features seen in fit (where the estimator has it).

    See Also
    --------
    rank_auxiliary_tasks : The ranking alone.
    skmtl.diagnostics.task_affinity : Affinities between every pair of tasks.

    Notes
    -----
    ``predict`` and ``predict_proba`` are those of ``estimator_``: they
    return every task it was fitted on, in the layout of ``y`` (the target's
    column is ``predict(X)[target]``). ``score`` scores the target task only,
    so ``GridSearchCV`` and ``cross_validate`` compare selections by the
    target's score while ``y`` holds every task. ``y`` must name its tasks
    (a DataFrame or a dict).

    The ranking is measured on the training rows, so inside a
    cross-validation every fold ranks on its own training rows. ``fit``
    costs the ranking's two trainings of the estimator plus the final one.
    A fit that fails leaves a previously fitted selector as it was. The
    measures and their references are those of :func:`rank_auxiliary_tasks`
    (Fifty et al., NeurIPS 2021; Du et al., arXiv:1812.02224, 2018).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skmtl import MultiTaskClassifier
    >>> from skmtl.diagnostics import AuxiliaryTaskSelector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(600, 10))
    >>> s = X[:, 0] - X[:, 1] + 0.5 * X[:, 2]
    >>> y = pd.DataFrame({
    ...     "target": np.where(s > 0, "pos", "neg"),
    ...     "helpful": np.digitize(s, [-1, 0, 1]),  # the same latent feature, finer
    ...     "noise": rng.randint(400, size=600),  # random labels
    ... })
    >>> y_train = y.iloc[:400].copy()
    >>> y_train.loc[40:, "target"] = None  # 40 target labels; every row has the others
    >>> clf = MultiTaskClassifier(hidden_layer_sizes=(32,), learning_rate=0.01,
    ...                           batch_size=64, max_epochs=20, random_state=0)
    >>> selector = AuxiliaryTaskSelector(clf, "target", random_state=0)
    >>> selector.fit(X[:400], y_train).selected_tasks_
    ['helpful']
    >>> list(selector.predict(X[400:]).columns)
    ['target', 'helpful']
    >>> score = selector.score(X[400:], y.iloc[400:])  # the target's accuracy
    >>> from sklearn.base import clone
    >>> everything = clone(clf).fit(X[:400], y_train)  # the target with every task
    >>> bool(score > everything.score(X[400:], y.iloc[400:][["target"]]))
    True
    """

    def __init__(
        self,
        estimator,
        target: str,
        *,
        candidates: Sequence[str] | None = None,
        method: str = "affinity",
        max_tasks: int | None = None,
        min_score: float = 0.0,
        n_steps: int = 50,
        lookahead_lr: float | None = None,
        random_state=None,
    ) -> None:
        self.estimator = estimator
        self.target = target
        self.candidates = candidates
        self.method = method
        self.max_tasks = max_tasks
        self.min_score = min_score
        self.n_steps = n_steps
        self.lookahead_lr = lookahead_lr
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = delegate_tags(super().__sklearn_tags__(), self.estimator)
        # A target and its candidates: y always holds several (named) tasks.
        tags.target_tags.required = True
        tags.target_tags.single_output = False
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y) -> AuxiliaryTaskSelector:
        """Rank the candidates, keep the helpful ones and fit the target with them.

        Parameters
        ----------
        X : array-like, sparse matrix or list of str
            Inputs, as in the estimator's ``fit``.
        y : DataFrame or dict
            Targets of the target task and the candidates (other columns are
            ignored); missing labels are allowed.

        Returns
        -------
        self : AuxiliaryTaskSelector
            The fitted selector. If fitting fails, a previously fitted
            selector is left exactly as it was.
        """
        state = self._fit(X, y)  # nothing is set before everything succeeded
        if "n_features_in_" not in state:
            self.__dict__.pop("n_features_in_", None)
        self.__dict__.update(state)
        return self

    def _fit(self, X, y) -> dict[str, Any]:
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}.")
        if self.max_tasks is not None and (
            isinstance(self.max_tasks, bool)
            or not isinstance(self.max_tasks, numbers.Integral)
            or self.max_tasks < 0
        ):
            raise ValueError(f"max_tasks must be None or an int >= 0, got {self.max_tasks!r}.")
        if (
            isinstance(self.min_score, bool)
            or not isinstance(self.min_score, numbers.Real)
            or np.isnan(self.min_score)
        ):
            raise ValueError(f"min_score must be a number (not NaN), got {self.min_score!r}.")
        if not (isinstance(y, Mapping) or (hasattr(y, "columns") and hasattr(y, "iloc"))):
            raise ValueError(
                "AuxiliaryTaskSelector needs a y that names its tasks (a DataFrame or a dict "
                f"of columns), got {type(y).__name__}: the fitted model, its predictions and "
                "its score refer to the tasks by name."
            )
        _check_is_multitask_estimator(self.estimator)
        groups, layout = _task_columns(self.estimator, y)
        target, candidates = _check_target_candidates(groups, self.target, self.candidates)
        ranking = rank_auxiliary_tasks(
            self.estimator,
            X,
            y,
            target,
            candidates=candidates,
            method=self.method,
            n_steps=self.n_steps,
            lookahead_lr=self.lookahead_lr,
            random_state=self.random_state,
        )
        good = [t for t, s in ranking["score"].items() if np.isfinite(s) and s > self.min_score]
        selected = good if self.max_tasks is None else good[: self.max_tasks]
        ranking["selected"] = ranking.index.isin(selected)
        kept = [t for t in groups if t == target or t in selected]
        model = clone(self.estimator).set_params(
            **_restricted_params(self.estimator, list(groups), kept)
        )
        model.fit(X, _select_tasks(y, layout, groups, kept))
        state = {
            "ranking_": ranking,
            "selected_tasks_": list(selected),
            "target_": target,
            "estimator_": model,
        }
        if hasattr(model, "n_features_in_"):
            state["n_features_in_"] = model.n_features_in_
        return state

    def predict(self, X):
        """Predict every task of ``estimator_`` (the target and the kept tasks).

        Parameters
        ----------
        X : array-like, sparse matrix or list of str
            Inputs.

        Returns
        -------
        Y_pred : DataFrame or dict
            ``estimator_.predict(X)``: the layout of the fitted ``y``.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """``estimator_.predict_proba(X)`` (one array per fitted task, target included).

        Parameters
        ----------
        X : array-like, sparse matrix or list of str
            Inputs.

        Returns
        -------
        proba : list of ndarray
            The class probabilities of each fitted task, in ``estimator_.tasks_`` order.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def score(self, X, y, sample_weight=None) -> float:
        """The target task's default metric on its labelled rows.

        Parameters
        ----------
        X : array-like, sparse matrix or list of str
            Inputs.
        y : DataFrame or dict
            Targets holding the target task's column (other columns are
            ignored); rows whose target label is missing are skipped.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            :func:`skmtl.metrics.task_score` with the target task's
            ``default_metric`` (accuracy, macro-F1 for multilabel, R^2, token
            accuracy, ...): greater is better.
        """
        check_is_fitted(self, "estimator_")
        model = self.estimator_
        task = model.tasks_[self.target_]
        truth = columns_for(model.target_layout_, [task], y)[task.name]
        if len(truth) != _n_rows(X):
            raise ValueError(
                f"X has {_n_rows(X)} samples but y has {len(truth)} rows; they must match."
            )
        if missing_mask(np.asarray(truth, dtype=object)).all():
            raise ValueError(
                f"y has no labelled row of the target task {task.name!r}; nothing to score."
            )
        pred = columns_for(model.target_layout_, [task], model.predict(X))[task.name]
        return float(
            task_score(
                truth, pred, task.default_metric, task_type=task.type, sample_weight=sample_weight
            )
        )


# ---------------------------------------------------------------- helpers


def _n_rows(X) -> int:
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None else len(X)


def _check_n_steps(n_steps) -> None:
    if not isinstance(n_steps, numbers.Integral) or isinstance(n_steps, bool) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}.")


def _check_lookahead_lr(lookahead_lr) -> None:
    if (
        isinstance(lookahead_lr, bool)
        or not isinstance(lookahead_lr, numbers.Real)
        or not np.isfinite(lookahead_lr)
        or lookahead_lr <= 0
    ):
        raise ValueError(f"lookahead_lr must be None or a number > 0, got {lookahead_lr!r}.")


def _check_is_multitask_estimator(estimator) -> None:
    needed = ("fit", "prepare_data", "get_params", "max_epochs", "batch_size", "warm_start")
    if isinstance(estimator, type) or not all(hasattr(estimator, a) for a in needed):
        raise TypeError(
            "estimator must be a skmtl multi-task estimator (e.g. MultiTaskClassifier()), got "
            f"{estimator!r}."
        )


def _task_columns(estimator, y) -> tuple[dict[str, list], Any]:
    """``({task: its original column keys}, layout)`` of ``y``, in ``y``'s order.

    Columns are grouped into one task as the estimator's ``tasks`` parameter
    groups them (``{"task": {"type": ..., "columns": [...]}}``).
    """
    layout, columns = split_targets(y)
    if layout.kind == "1d":
        raise ValueError(
            "y holds a single task; a target and at least one candidate auxiliary task are "
            "needed (a 2-D array, a DataFrame or a dict of columns)."
        )
    label_of = (
        {str(c): c for c in layout.columns}
        if layout.kind in ("frame", "dict")
        else {str(j): j for j in range(len(columns))}
    )
    spec = estimator.get_params(deep=False).get("tasks") or {}
    grouped = {
        str(name): [str(c) for c in entry["columns"]]
        for name, entry in (spec.items() if isinstance(spec, Mapping) else ())
        if isinstance(entry, Mapping) and "columns" in entry
    }
    claimed = {c: name for name, cols in grouped.items() for c in cols}
    groups: dict[str, list] = {}
    for col in columns:
        name = claimed.get(col, col)
        if name not in groups:
            cols = grouped.get(name, [col]) if col in claimed else [col]
            groups[name] = [label_of.get(c, c) for c in cols]
    return groups, layout


def _check_target_candidates(groups: dict, target, candidates) -> tuple[str, list[str]]:
    names = list(groups)
    if target is None or isinstance(target, (list, tuple, set, np.ndarray)):
        raise ValueError(f"target must be the name of one task of y {names}, got {target!r}.")
    target = str(target)
    if target not in groups:
        raise ValueError(f"Unknown target task {target!r}; the tasks of y are {names}.")
    if candidates is None:
        chosen = [t for t in names if t != target]
    else:
        if isinstance(candidates, (str, bytes)) or not isinstance(
            candidates, (Sequence, np.ndarray, pd.Index, set, frozenset)
        ):
            raise ValueError(
                f"candidates must be None or a list of task names, got {candidates!r}."
            )
        chosen = [str(c) for c in candidates]
        repeated = sorted({c for c in chosen if chosen.count(c) > 1})
        if repeated:
            raise ValueError(f"candidates names tasks {repeated} more than once.")
        unknown = [c for c in chosen if c not in groups]
        if unknown:
            raise ValueError(
                f"candidates names unknown tasks {unknown}; the tasks of y are {names}."
            )
        if target in chosen:
            raise ValueError(
                f"The target task {target!r} is among the candidates; an auxiliary task must "
                "be another task."
            )
        chosen = [t for t in names if t in chosen]  # y's order
    if not chosen:
        raise ValueError(
            f"No candidate auxiliary task: y's tasks are {names} and the target is {target!r}; "
            "give at least one other task."
        )
    return target, chosen


def _select_tasks(y, layout, groups: dict, keep: list[str]):
    """The columns of the tasks ``keep`` of ``y`` (a new container; ``y`` is untouched).

    A 2-D array becomes a dict ``{"j": column j}``, so that the tasks keep
    their names.
    """
    keys = [k for t in groups if t in keep for k in groups[t]]
    if layout.kind == "frame":
        return y.loc[:, keys]
    if layout.kind == "dict":
        return {k: y[k] for k in keys}
    Y = y if isinstance(y, np.ndarray) else np.asarray(y, dtype=object)
    return {str(j): Y[:, int(j)] for j in keys}


def _restricted_params(estimator, names: list[str], keep: list[str]) -> dict[str, Any]:
    """The estimator's per-task parameters restricted to the tasks ``keep``."""
    params = estimator.get_params(deep=False)
    keep_set = set(keep)
    out: dict[str, Any] = {}
    for name in ("tasks", *getattr(estimator, "_PER_TASK_PARAMS", ("task_weights",))):
        if name not in params or params[name] is None:
            continue
        value = params[name]
        if isinstance(value, Mapping):
            entries = {k: v for k, v in value.items() if str(k) in keep_set}
            if len(entries) == len(value):
                continue
            default = getattr(value, "default", None)
            out[name] = PerTask(entries, default=default) if isinstance(value, PerTask) else entries
        elif not is_scalar(value) and isinstance(value, (Sequence, np.ndarray)):
            if len(value) == len(names):
                out[name] = [value[i] for i, t in enumerate(names) if t in keep_set]
    return out
