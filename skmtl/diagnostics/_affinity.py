"""Inter-task affinity by lookahead, and the task grouping it suggests."""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from sklearn.utils import check_random_state
from torch.func import functional_call

from ..engine import Engine, steps_bar, to_device

__all__ = ["suggest_task_groups", "task_affinity"]

_MAX_GROUP_TASKS = 8


def task_affinity(
    estimator,
    X,
    y,
    *,
    n_steps: int = 50,
    lookahead_lr: float | None = None,
    random_state=None,
    verbose: int = 0,
) -> pd.DataFrame:
    """Inter-task affinity by lookahead (Fifty et al., NeurIPS 2021).

    On a sampled batch, the shared (trunk) parameters take one lookahead SGD
    step on task ``i``'s loss alone, ``θ' = θ - lr ∇_θ L_i``, and the loss of
    every task ``j`` on the same batch is measured again::

        Z[i -> j] = 1 - L_j(X, θ') / L_j(X, θ)

    Positive values mean a step for task ``i`` also lowers task ``j``'s loss
    (the tasks help each other); negative values mean it raises it. The
    affinity is averaged over ``n_steps`` batches. The lookahead is
    evaluated with :func:`torch.func.functional_call`, so the model's
    parameters, gradients and train/eval modes are left as they were.

    Parameters
    ----------
    estimator : multi-task estimator
        A fitted estimator: the affinity is measured at its current
        parameters, on ``n_steps`` random batches of ``(X, y)``. An unfitted
        one: a clone is trained on ``(X, y)`` for ``max_epochs`` epochs
        (without early stopping) and the ``n_steps`` measurements are spread
        evenly over its epochs, as in the paper, which averages the affinity
        over training. The estimator itself is never modified.
    X : array-like, sparse matrix or list of str
        Inputs, as in ``fit``.
    y : array-like, DataFrame or dict
        Targets of every task, as in ``fit``; missing labels are allowed (a
        pair is measured on the batches where both tasks have a label).
    n_steps : int, default=50
        Number of sampled batches (of ``batch_size`` rows) on which the
        lookahead is measured.
    lookahead_lr : float, default=None
        Step size of the lookahead SGD step; None uses the estimator's
        ``learning_rate``. The affinity is, to first order, proportional
        to it, so only compare affinities measured with the same step size.
    random_state : int, RandomState instance or None, default=None
        Seeds the batch sampling (and the clone's training when
        ``estimator`` is unfitted).
    verbose : int, default=0
        > 0: a progress bar (tqdm, on stderr) over the ``n_steps`` lookahead
        measurements; for an unfitted ``estimator`` its postfix names the
        training epoch under way (the clone's own output follows its
        ``verbose`` parameter).

    Returns
    -------
    affinity : DataFrame of shape (n_tasks, n_tasks)
        ``affinity.loc[i, j]`` is the mean ``Z[i -> j]``: rows are the source
        tasks (whose step is taken), columns the target tasks (whose loss is
        measured). NaN where a pair never had labels in the same batch.

    See Also
    --------
    suggest_task_groups : Partition the tasks using this matrix.

    Notes
    -----
    The network runs in eval mode during the measurements (no dropout,
    batch-norm running statistics), so the before and after losses differ
    only by the lookahead step. Only the shared parameters move in the
    lookahead; the task heads stay fixed.

    References
    ----------
    C. Fifty, E. Amid, Z. Zhao, T. Yu, R. Anil, C. Finn. "Efficiently
    Identifying Task Groupings in Multi-Task Learning". NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskRegressor
    >>> from skmtl.diagnostics import task_affinity
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5))
    >>> a = X[:, 0] + 0.5 * X[:, 1]
    >>> Y = np.column_stack([a, a + 0.1 * X[:, 2], X[:, 3] * X[:, 4]])  # "2" is unrelated
    >>> reg = MultiTaskRegressor(hidden_layer_sizes=(16,), max_epochs=10, learning_rate=0.01,
    ...                          batch_size=64, random_state=0)
    >>> A = task_affinity(reg, X, Y, n_steps=10, lookahead_lr=0.05, random_state=0)
    >>> A.shape
    (3, 3)
    >>> bool(A.loc["0", "1"] > A.loc["0", "2"])
    True
    """
    if not isinstance(n_steps, numbers.Integral) or isinstance(n_steps, bool) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}.")
    if lookahead_lr is not None and (
        not isinstance(lookahead_lr, numbers.Real)
        or not np.isfinite(lookahead_lr)
        or lookahead_lr <= 0
    ):
        raise ValueError(f"lookahead_lr must be None or a number > 0, got {lookahead_lr!r}.")
    rng = check_random_state(random_state)
    lr = float(estimator.learning_rate if lookahead_lr is None else lookahead_lr)
    with steps_bar(n_steps, verbose, desc="task_affinity", unit="step") as bar:
        if hasattr(estimator, "module_"):
            return _mean_affinity(_measure(estimator, X, y, n_steps, lr, rng, bar))
        model = clone(estimator).set_params(warm_start=True, early_stopping=False, max_epochs=1)
        epochs = int(estimator.max_epochs)
        per_epoch = [len(part) for part in np.array_split(np.arange(n_steps), epochs)]
        blocks = []
        for epoch, steps in enumerate(per_epoch, start=1):
            bar.set_postfix_str(f"epoch {epoch}/{epochs}")
            model.set_params(random_state=int(rng.randint(np.iinfo(np.int32).max)))
            model.fit(X, y)
            if steps:
                blocks.append(_measure(model, X, y, steps, lr, rng, bar))
    sums = sum(b[0] for b in blocks)
    counts = sum(b[1] for b in blocks)
    return _mean_affinity((sums, counts, blocks[0][2]))


def _mean_affinity(measured) -> pd.DataFrame:
    sums, counts, names = measured
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return pd.DataFrame(
        mean,
        index=pd.Index(names, name="source"),
        columns=pd.Index(names, name="target"),
    )


def _measure(estimator, X, y, n_steps: int, lr: float, rng, bar=None):
    """Sum and count of lookahead affinities over ``n_steps`` sampled batches
    (``bar``: a progress bar advanced once per batch)."""
    data = estimator.prepare_data(X, y)
    tasks = list(estimator.tasks_.values())
    names = [t.name for t in tasks]
    module, device = estimator.module_, estimator.device_
    n = len(data)
    batch = min(int(estimator.batch_size), n)
    engine = Engine(
        module, tasks, weighting=None, optimizer=None, sampler=None, max_epochs=0, device=device
    )
    shared = list(module.shared_parameters())
    shared_ids = {id(p) for p in shared}
    shared_names = [name for name, p in module.named_parameters() if id(p) in shared_ids]
    by_name = dict(module.named_parameters())
    shared = [by_name[name] for name in shared_names]
    k = len(names)
    sums, counts = np.zeros((k, k)), np.zeros((k, k))

    modes = {m: m.training for m in module.modules()}
    flags = [p.requires_grad for p in shared]
    try:
        module.eval()
        for p in shared:
            p.requires_grad_(True)
        for _ in range(n_steps):
            rows = np.sort(rng.choice(n, size=batch, replace=False))
            engine.prepare(data.take(rows))
            x = to_device(engine.data.inputs.batch(0, batch), device)
            targets = {t: v.rows(0, batch) for t, v in engine.tensors.items()}

            def losses(out, x=x, targets=targets):
                return engine.get_loss(out, x, targets)

            with torch.enable_grad():
                before, present = losses(module(x))
                before_values = [float(v.detach()) for v in before]
                for i in range(k):
                    if not bool(present[i]):
                        continue
                    grads = torch.autograd.grad(
                        before[i], shared, retain_graph=True, allow_unused=True
                    )
                    stepped = {
                        name: (
                            p
                            if g is None
                            else p.detach() - lr * (g.to_dense() if g.is_sparse else g)
                        )
                        for name, p, g in zip(shared_names, shared, grads, strict=True)
                    }
                    with torch.no_grad():
                        after, _ = losses(functional_call(module, stepped, (x,)))
                    for j in range(k):
                        lb = before_values[j]
                        if bool(present[j]) and lb > 0:
                            sums[i, j] += 1.0 - float(after[j]) / lb
                            counts[i, j] += 1
            if bar is not None:
                bar.update()
    finally:
        for p, flag in zip(shared, flags, strict=True):
            p.requires_grad_(flag)
        for m, mode in modes.items():
            m.training = mode
    return sums, counts, names


def suggest_task_groups(affinity, n_groups: int) -> list[list[str]]:
    """Partition the tasks into ``n_groups`` groups of high mutual affinity.

    The grouping of Fifty et al. (2021) restricted to partitions: a task's
    score in a group is the mean affinity onto it from the other tasks of
    its group (0 alone in a group), and the partition maximising the sum of
    the scores is returned. The search is exhaustive, so it is limited to
    8 tasks (4,140 partitions in all).

    Parameters
    ----------
    affinity : DataFrame or array-like of shape (n_tasks, n_tasks)
        ``affinity[i, j]``: the affinity of source task ``i`` onto target
        task ``j``, as returned by :func:`task_affinity` (rows and columns
        name the same tasks; an array's tasks are named ``"0"``, ``"1"``,
        ...). NaN entries count as 0.
    n_groups : int
        Number of (non-empty) groups, from 1 to the number of tasks.

    Returns
    -------
    groups : list of list of str
        The task names of each group, in the affinity's task order; groups
        are ordered by their first task.

    Raises
    ------
    ValueError
        For more than 8 tasks, a non-square matrix or an invalid
        ``n_groups``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmtl.diagnostics import suggest_task_groups
    >>> names = ["a", "b", "c"]
    >>> A = pd.DataFrame([[0.3, 0.2, -0.1], [0.25, 0.3, -0.2], [-0.1, -0.1, 0.4]],
    ...                  index=names, columns=names)
    >>> suggest_task_groups(A, 2)
    [['a', 'b'], ['c']]
    """
    if isinstance(affinity, pd.DataFrame):
        if list(map(str, affinity.index)) != list(map(str, affinity.columns)):
            raise ValueError("affinity must have the same tasks, in order, as rows and columns.")
        names = [str(c) for c in affinity.columns]
        A = affinity.to_numpy(dtype=float)
    else:
        A = np.asarray(affinity, dtype=float)
        names = [str(i) for i in range(A.shape[0])] if A.ndim == 2 else []
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"affinity must be a non-empty square matrix, got shape {A.shape}.")
    k = A.shape[0]
    if k > _MAX_GROUP_TASKS:
        raise ValueError(
            f"suggest_task_groups searches every partition, which is limited to "
            f"{_MAX_GROUP_TASKS} tasks; got {k}. Group a subset of the tasks."
        )
    if (
        not isinstance(n_groups, numbers.Integral)
        or isinstance(n_groups, bool)
        or not 1 <= n_groups <= k
    ):
        raise ValueError(f"n_groups must be an integer in [1, {k}], got {n_groups!r}.")
    A = np.nan_to_num(A, nan=0.0)

    def score(group: Sequence[int]) -> float:
        if len(group) < 2:
            return 0.0
        return float(sum(np.mean([A[s, t] for s in group if s != t]) for t in group))

    best, best_score = None, -np.inf
    for partition in _partitions(list(range(k)), n_groups):
        total = sum(score(g) for g in partition)
        if total > best_score + 1e-12:
            best, best_score = partition, total
    return [[names[i] for i in group] for group in sorted(sorted(g) for g in best)]


def _partitions(items: list[Any], n_groups: int) -> Iterator[list[list[Any]]]:
    """Every partition of ``items`` into exactly ``n_groups`` non-empty blocks."""
    if n_groups == 0:
        if not items:
            yield []
        return
    if len(items) < n_groups:
        return
    first, rest = items[0], items[1:]
    # ``first`` alone in a block ...
    for partition in _partitions(rest, n_groups - 1):
        yield [[first], *partition]
    # ... or added to a block of a partition of the rest.
    for partition in _partitions(rest, n_groups):
        for i in range(len(partition)):
            yield [*partition[:i], [first, *partition[i]], *partition[i + 1 :]]
