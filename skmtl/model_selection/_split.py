"""A K-fold splitter stratified over every task's labels at once."""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Iterator

import numpy as np
from sklearn.model_selection._split import _BaseKFold
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples

from ..tasks import infer_task_type, is_label_set, labels_array, split_targets
from ..utils import missing_mask

__all__ = ["MultiTaskStratifiedKFold"]

# A continuous task is stratified over (at most) this many quantile bins of its
# labelled values; fewer when a bin would hold fewer than ``n_splits`` rows.
_N_QUANTILE_BINS = 5
# With shuffle=False the splits must not depend on the global numpy RNG, but
# iterative stratification breaks ties at random: a fixed seed keeps the folds
# a function of Y (and its row order) alone.
_TIE_BREAK_SEED = 0


class MultiTaskStratifiedKFold(_BaseKFold):
    """K-fold cross-validator stratified over the labels of every task at once.

    The folds keep each (task, label) pair's share of the rows: every class of
    every binary / multiclass task, every label of every multilabel task and
    every quantile bin of every continuous task, so a rare label is spread
    over the folds instead of landing in one (which the other folds would then
    never train on). They are made in two steps, on an indicator matrix with
    one column per (task, label) built from Y:

    1. iterative stratification (Sechidis et al., 2011), as implemented by the
       `iterative-stratification`_ package (``MultilabelStratifiedKFold``): the
       label with the fewest rows left is dealt out first, each of its rows to
       the fold that lacks that label most;
    2. a balancing pass: rows dealt out for one label carry their other labels
       along, so the labels dealt last (the most frequent ones) and the fold
       sizes can end several rows off their shares; rows are then moved or
       swapped between folds while that lowers the sum of the fourth powers
       of the deviations of the counts from their shares, until every count
       is within 1 of its share or no move or swap helps (a local search: on
       typical data every count ends within 1 of its share, without a
       guarantee).

    Y is given as skmtl's estimators take it, and a missing label is no label:
    a NaN / ``None`` / ``pd.NA`` cell adds nothing to that row's columns, so
    each task's *labelled* rows are stratified. Use it as ``cv=`` in
    :func:`~sklearn.model_selection.cross_validate`,
    :func:`~sklearn.model_selection.cross_val_score` or
    :class:`~sklearn.model_selection.GridSearchCV`. With a classifier,
    ``cv=<int>`` makes scikit-learn call ``type_of_target`` on the whole Y,
    which raises a ``TypeError`` when Y has missing cells or tasks of different
    label types (a ``ValueError`` for NaN in an all-float Y); with any other
    multi-task estimator it gives plain, unstratified
    :class:`~sklearn.model_selection.KFold`.

    .. _iterative-stratification: https://github.com/trent-b/iterative-stratification

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2 and at most the number of rows.
    shuffle : bool, default=False
        Whether to shuffle the rows before they are dealt out. With
        ``shuffle=False`` the folds depend on Y and its row order only (ties
        are broken by a fixed seed), so every call gives the same folds.
    random_state : int, RandomState instance or None, default=None
        With ``shuffle=True``, seeds the shuffle, the tie-breaking and the
        balancing pass; pass an int for the same folds on every call. Must be
        None when ``shuffle`` is False, as in
        :class:`~sklearn.model_selection.KFold`.

    Notes
    -----
    How each task of Y becomes indicator columns (the task types are inferred
    as in skmtl's estimators, from the labelled cells with ``type_of_target``):

    - binary / multiclass: one column per class;
    - multilabel (cells are lists / tuples / sets of labels, or a 0/1 block of
      a dict): one column per label; an empty cell is labelled, with no label;
    - continuous: one column per quantile bin of the labelled values (up to 5
      bins, fewer when a bin would hold fewer than ``n_splits`` rows); each
      column of a multi-column block is binned on its own.

    A row with no label in any task is still assigned to exactly one fold
    (it counts toward the fold sizes, which are balanced like a label). The
    ``groups`` argument of ``split`` is ignored. Inside ``cross_validate`` and
    ``GridSearchCV``, which index Y by rows, give Y as a DataFrame or a 2-D
    array (a dict of columns works when calling ``split`` directly). A label
    with a single labelled row cannot be in both the test and the training
    rows of its fold, and skmtl's estimators refuse to score a test fold with
    a label that training never saw.

    References
    ----------
    .. [1] K. Sechidis, G. Tsoumakas and I. Vlahavas, "On the stratification of
       multi-label data", ECML PKDD 2011, Lecture Notes in Computer Science
       6913, pp. 145-158, Springer, 2011.
    .. [2] P. Szymanski and T. Kajdanowicz, "A network perspective on
       stratification of multi-label data", Proceedings of the First
       International Workshop on Learning with Imbalanced Domains (LIDTA 2017),
       PMLR 74, pp. 22-35, 2017. (Compares stratification methods and extends
       iterative stratification to label pairs; this class uses the original,
       per-label algorithm of [1].)

    See Also
    --------
    sklearn.model_selection.StratifiedKFold : Stratification for one 1-D target.
    sklearn.model_selection.KFold : Unstratified folds (works with any Y).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skmtl.model_selection import MultiTaskStratifiedKFold
    >>> rng = np.random.RandomState(0)
    >>> Y = pd.DataFrame({
    ...     "sentiment": rng.choice(["pos", "neg", "rare"], 60, p=[0.5, 0.45, 0.05]),
    ...     "stars": rng.choice([1, 2, 3, None], 60),
    ...     "topics": [tuple(t for t in "ab" if rng.rand() < 0.4) for _ in range(60)],
    ... }).astype({"sentiment": object})
    >>> Y.loc[::7, "sentiment"] = None  # missing labels: rows 0, 7, 14, ...
    >>> X = rng.normal(size=(60, 3))
    >>> cv = MultiTaskStratifiedKFold(n_splits=3)
    >>> for train, test in cv.split(X, Y):
    ...     print(len(test), Y["sentiment"].iloc[test].value_counts().sort_index().to_dict())
    20 {'neg': 8, 'pos': 8, 'rare': 1}
    20 {'neg': 8, 'pos': 9, 'rare': 1}
    20 {'neg': 7, 'pos': 8, 'rare': 1}

    Each fold has its share of every task's labels (the three "rare" rows go
    to three folds; ``stars`` and ``topics`` are balanced too). Unstratified
    folds may put them all in one fold, which the other folds then never
    train on:

    >>> from sklearn.model_selection import KFold
    >>> for train, test in KFold(3, shuffle=True, random_state=0).split(X, Y):
    ...     print(len(test), Y["sentiment"].iloc[test].value_counts().sort_index().to_dict())
    20 {'neg': 4, 'pos': 11}
    20 {'neg': 10, 'pos': 5, 'rare': 3}
    20 {'neg': 9, 'pos': 9}

    As ``cv=`` (``cv=3`` would fail on this Y with a classifier, in
    scikit-learn's ``type_of_target``):

    >>> from sklearn.model_selection import cross_val_score
    >>> from skmtl import MultiTaskClassifier
    >>> model = MultiTaskClassifier(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
    >>> cv = MultiTaskStratifiedKFold(3, shuffle=True, random_state=0)
    >>> scores = cross_val_score(model, X, Y[["sentiment", "topics"]], cv=cv)
    >>> scores.shape, bool(np.all(np.isfinite(scores)))
    ((3,), True)
    """

    def __init__(
        self,
        n_splits: int = 5,
        *,
        shuffle: bool = False,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        # Stored as given and validated in ``split`` / ``get_n_splits``, so that
        # an invalid value raises where the splitter is used, with its name.
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def _check_params(self) -> None:
        n_splits = self.n_splits
        if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral):
            raise ValueError(
                "MultiTaskStratifiedKFold: n_splits must be an integer of at least 2; "
                f"got {n_splits!r} of type {type(n_splits).__name__}."
            )
        if n_splits < 2:
            raise ValueError(
                "MultiTaskStratifiedKFold: k-fold cross-validation needs at least one "
                f"train/test split, n_splits=2 or more; got n_splits={n_splits}."
            )
        if not isinstance(self.shuffle, (bool, np.bool_)):
            raise ValueError(
                f"MultiTaskStratifiedKFold: shuffle must be True or False; got {self.shuffle!r}."
            )
        if not self.shuffle and self.random_state is not None:
            raise ValueError(
                "MultiTaskStratifiedKFold: setting random_state has no effect since shuffle "
                "is False (the folds are then a fixed function of Y). Leave random_state to "
                "None, or set shuffle=True."
            )
        random_state = self.random_state
        if random_state is not None and (
            isinstance(random_state, bool)
            or not isinstance(random_state, (numbers.Integral, np.random.RandomState))
        ):
            raise ValueError(
                "MultiTaskStratifiedKFold: random_state must be None, an int or a "
                f"numpy RandomState; got {random_state!r}."
            )

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Return the number of splitting iterations, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored; present for API compatibility.

        Returns
        -------
        n_splits : int
        """
        self._check_params()
        return int(self.n_splits)

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate the indices of the training and test rows of each fold.

        Parameters and Y are checked when ``split`` is called, before the first
        fold is generated.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a list of n_samples
            items
            Only its number of rows is used (``np.zeros((n_samples, 1))`` will
            do).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks), DataFrame or dict
            The targets Y, as skmtl's estimators take them: a 1-D or 2-D array,
            a DataFrame (one column per task) or a dict ``{task: column}``.
            Cells may be missing (NaN, None, ``pd.NA``); multilabel cells are
            lists, tuples or sets of labels; float columns that are not
            integral are continuous and stratified by quantile bins.
        groups : object
            Ignored; present for API compatibility.

        Yields
        ------
        train : ndarray
            The training set indices for that split.
        test : ndarray
            The testing set indices for that split.

        Raises
        ------
        ValueError
            If a parameter is invalid, Y is None, Y and X differ in length, a
            task mixes label types (e.g. str and int labels in one column), or
            ``n_splits`` exceeds the number of rows.
        """
        self._check_params()
        if y is None:
            raise ValueError(
                "MultiTaskStratifiedKFold.split needs the targets: call split(X, Y) "
                "(it stratifies on Y's labels); got Y=None."
            )
        indicator, _ = _label_indicator(y, int(self.n_splits))
        n_samples = indicator.shape[0]
        if X is not None and _num_samples(X) != n_samples:
            raise ValueError(
                f"MultiTaskStratifiedKFold.split: X has {_num_samples(X)} rows but Y has "
                f"{n_samples}."
            )
        if self.n_splits > n_samples:
            raise ValueError(
                f"MultiTaskStratifiedKFold: cannot have n_splits={self.n_splits} greater "
                f"than the number of rows, {n_samples}."
            )
        if X is None:
            X = np.zeros((n_samples, 1))
        return super().split(X, indicator, groups)

    def _iter_test_masks(self, X=None, y=None, groups=None) -> Iterator[np.ndarray]:
        # ``y`` is the (task, label) indicator matrix built in ``split``.
        folds = self._test_folds(np.asarray(y, dtype=bool))
        for k in range(int(self.n_splits)):
            yield folds == k

    def _test_folds(self, indicator: np.ndarray) -> np.ndarray:
        """Fold number of each row: iterative stratification, then balancing."""
        from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

        n_samples, n_splits = indicator.shape[0], int(self.n_splits)
        padded = indicator
        if indicator.shape[1] < 2:
            # The package wants a "multilabel-indicator" target (two columns or
            # more); an all-zero column is never a label to deal out.
            pad = np.zeros((n_samples, 2 - indicator.shape[1]), dtype=bool)
            padded = np.hstack([indicator, pad])
        if self.shuffle:
            splitter = MultilabelStratifiedKFold(
                n_splits, shuffle=True, random_state=self.random_state
            )
            rng = (
                np.random.RandomState(self.random_state)
                if isinstance(self.random_state, numbers.Integral)
                else check_random_state(self.random_state)
            )
        else:
            splitter = MultilabelStratifiedKFold(n_splits, shuffle=False)
            # The package breaks ties with ``random_state`` even without
            # shuffling; scikit-learn's constructor refuses a random_state when
            # shuffle is False, so it is set afterwards: deterministic folds
            # rather than ones drawn from the global numpy RNG.
            splitter.random_state = _TIE_BREAK_SEED
            rng = np.random.RandomState(_TIE_BREAK_SEED)
        folds = np.full(n_samples, -1, dtype=np.intp)
        for k, (_, test) in enumerate(splitter.split(np.zeros((n_samples, 1)), padded)):
            folds[test] = k
        return _balance_folds(indicator, folds, n_splits, rng)


def _balance_folds(
    indicator: np.ndarray, folds: np.ndarray, n_splits: int, rng: np.random.RandomState
) -> np.ndarray:
    """Move or swap rows between folds while that evens out the label counts.

    Iterative stratification deals each label's rows in turn, and rows dealt
    for one label carry all their other labels along: the labels dealt last
    (the most frequent ones) and the fold sizes can end several rows away from
    their shares. This local search works on the deviations ``E[f, l]`` of each
    fold's count of each column (plus a column of ones: the fold size) from its
    share ``count / n_splits``, and lowers ``sum(E ** 4)`` (the fourth power
    weighs the largest deviations most). It takes the largest ``|E[f, l]|`` and
    a partner fold on the other side of the share of label ``l`` (the farthest
    first), and makes the move of one row, or the swap of two rows (up to 256
    candidates on each side), that lowers the sum most. It stops when every
    ``|E| < 1`` (each count at the floor or ceiling of its share), or when no
    move or swap lowers the sum for any deviation of 1 or more.
    """
    n_samples, n_labels = indicator.shape
    x = np.hstack([indicator.astype(np.float64), np.ones((n_samples, 1))])
    share = x.sum(axis=0) / n_splits
    counts = np.zeros((n_splits, n_labels + 1))
    np.add.at(counts, folds, x)
    folds = folds.copy()
    stuck: set[tuple[int, int]] = set()
    for _ in range(20 * n_splits * (n_labels + 1) + 100):  # a safety cap
        dev = counts - share
        for flat in np.argsort(-np.abs(dev), axis=None, kind="stable"):
            f, label = divmod(int(flat), n_labels + 1)
            if abs(dev[f, label]) < 1 - 1e-9:
                return folds  # every deviation left is below 1
            if (f, label) in stuck:
                continue
            sign = 1.0 if dev[f, label] > 0 else -1.0
            # ``a`` has too many rows of ``label``, ``b`` too few.
            partners = [int(g) for g in np.argsort(sign * dev[:, label], kind="stable") if g != f]
            for g in partners:
                a, b = (f, g) if sign > 0 else (g, f)
                step = _best_step(x, folds, dev[a], dev[b], a, b, label, rng)
                if step is not None:
                    break
            else:
                stuck.add((f, label))
                continue
            i, j = step  # row i goes from a to b; row j (if any) from b to a
            counts[a] -= x[i]
            counts[b] += x[i]
            folds[i] = b
            if j is not None:
                counts[b] -= x[j]
                counts[a] += x[j]
                folds[j] = a
            stuck.clear()
            break
        else:
            return folds  # no deviation of 1 or more can be lowered
    return folds


def _best_step(x, folds, dev_a, dev_b, a, b, label, rng, n_candidates=256):
    """The move ``(i, None)`` of a row of ``label`` from fold a to fold b, or the
    swap ``(i, j)`` of it with a row of b without ``label``, that lowers
    ``sum(E ** 4)`` most; None when none lowers it.

    A row's columns are 0/1, so a step changes each deviation by -1, 0 or +1:
    with ``up(E) = (E + 1) ** 4 - E ** 4`` and ``down(E) = (E - 1) ** 4 - E ** 4``,
    moving row i changes the sum by ``x_i . (down(E_a) + up(E_b))``, and
    swapping it with row j by that plus ``x_j . (up(E_a) + down(E_b))`` minus
    ``sum_l x_il x_jl (up + down)(E_a) + (up + down)(E_b)`` (labels both carry).
    """
    up_a, down_a = (dev_a + 1) ** 4 - dev_a**4, (dev_a - 1) ** 4 - dev_a**4
    up_b, down_b = (dev_b + 1) ** 4 - dev_b**4, (dev_b - 1) ** 4 - dev_b**4
    rows_i = np.flatnonzero((folds == a) & (x[:, label] > 0))
    rows_j = np.flatnonzero((folds == b) & (x[:, label] == 0))
    if len(rows_i) > n_candidates:
        rows_i = rows_i[np.sort(rng.choice(len(rows_i), n_candidates, replace=False))]
    if len(rows_j) > n_candidates:
        rows_j = rows_j[np.sort(rng.choice(len(rows_j), n_candidates, replace=False))]
    if len(rows_i) == 0:
        return None
    xi = x[rows_i]
    move = xi @ (down_a + up_b)
    m = int(np.argmin(move))
    best, step = move[m], (int(rows_i[m]), None)
    if len(rows_j):
        xj = x[rows_j]
        both = up_a + down_a + up_b + down_b
        swap = move[:, None] + (xj @ (up_a + down_b))[None, :] - (xi * both) @ xj.T
        p, q = np.unravel_index(int(np.argmin(swap)), swap.shape)
        if swap[p, q] < best:
            best, step = swap[p, q], (int(rows_i[p]), int(rows_j[q]))
    return step if best < -1e-9 else None


# ---------------------------------------------------------------- Y -> indicator


def _label_indicator(Y, n_splits: int) -> tuple[np.ndarray, list[tuple[str, Hashable]]]:
    """One boolean column per (task, label) of Y; missing cells are all False.

    Returns the ``(n_samples, n_columns)`` matrix and each column's
    ``(task name, label)``; a continuous task's labels are
    ``("quantile bin", b)`` (``(column, b)`` for a column of a 2-D block).
    """
    _, columns = split_targets(Y)
    blocks: list[np.ndarray] = []
    keys: list[tuple[str, Hashable]] = []
    n_samples = len(next(iter(columns.values())))
    for name, column in columns.items():
        missing = missing_mask(column)
        if missing.all():
            continue  # no label to stratify on (an estimator would refuse the task)
        kind = infer_task_type(column, name=name)
        if column.ndim == 2:
            if kind == "multilabel":
                block = (column.astype(np.float64) == 1) & ~missing[:, None]
                blocks.append(block)
                keys += [(name, j) for j in range(column.shape[1])]
            else:
                for j in range(column.shape[1]):
                    block, bins = _quantile_bins(column[:, j], missing, n_splits)
                    blocks.append(block)
                    keys += [(name, (j, b)) for b in bins]
            continue
        if kind in ("binary", "multiclass"):
            labelled = np.flatnonzero(~missing)
            values = labels_array(name, column[labelled])
            classes, codes = np.unique(values, return_inverse=True)
            block = np.zeros((n_samples, len(classes)), dtype=bool)
            block[labelled, codes.reshape(-1)] = True
            blocks.append(block)
            keys += [(name, _scalar(c)) for c in classes]
        elif kind == "multilabel":
            block, labels = _label_sets(name, column, missing)
            blocks.append(block)
            keys += [(name, label) for label in labels]
        else:  # continuous
            block, bins = _quantile_bins(column, missing, n_splits)
            blocks.append(block)
            keys += [(name, ("quantile bin", b)) for b in bins]
    if not blocks:
        return np.zeros((n_samples, 0), dtype=bool), []
    return np.hstack(blocks), keys


def _label_sets(name: str, column: np.ndarray, missing: np.ndarray) -> tuple[np.ndarray, list]:
    index: dict[Hashable, int] = {}
    hits: list[tuple[int, int]] = []
    for row in np.flatnonzero(~missing):
        cell = column[row]
        if not is_label_set(cell):
            raise ValueError(
                f"Task {name!r}, row {row}: a multilabel cell must be a list, tuple or set "
                f"of labels (or missing), got {cell!r}."
            )
        for label in cell:
            j = index.setdefault(_scalar(label), len(index))
            hits.append((row, j))
    block = np.zeros((len(column), len(index)), dtype=bool)
    if hits:
        rows, cols = np.asarray(hits).T
        block[rows, cols] = True
    return block, list(index)


def _quantile_bins(
    column: np.ndarray, missing: np.ndarray, n_splits: int
) -> tuple[np.ndarray, list[int]]:
    """Indicator of the quantile bin of each labelled value (missing: none)."""
    labelled = np.flatnonzero(~missing)
    try:
        values = np.asarray(column[labelled], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "MultiTaskStratifiedKFold: a continuous task has non-numeric values."
        ) from None
    n_bins = min(_N_QUANTILE_BINS, len(values) // n_splits)
    if n_bins < 2:
        return np.zeros((len(column), 0), dtype=bool), []
    edges = np.unique(np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1]))
    codes = np.searchsorted(edges, values, side="right")
    bins, codes = np.unique(codes, return_inverse=True)
    block = np.zeros((len(column), len(bins)), dtype=bool)
    block[labelled, codes.reshape(-1)] = True
    return block, [int(b) for b in bins]


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value
