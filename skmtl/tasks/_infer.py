"""One task-type inference for the estimators, the tagger and :mod:`skmtl.metrics`."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.multiclass import type_of_target

from ..utils import missing_mask
from ._cells import all_missing_message, as_column, is_label_set, is_tag_sequence, uniform_array

__all__ = ["infer_task_type"]


def infer_task_type(column: Any, *, sequence: bool = False, name: str | None = None) -> str:
    """Guess the task type of one task's column from its labelled cells.

    A column whose labelled cells are lists / tuples / sets (or 1-D arrays) is
    ``"multilabel"``, or ``"token"`` (tag sequences) when ``sequence=True``.
    Otherwise :func:`sklearn.utils.multiclass.type_of_target` on the labelled
    cells decides: ``"binary"``, ``"multiclass"`` or ``"continuous"`` (a float
    column with non-integral values). A 2-D block is ``"multilabel"`` when it
    is a 0/1 indicator matrix and ``"continuous"`` when it holds other numbers.

    Parameters
    ----------
    column : array-like of shape (n_samples,) or (n_samples, n_outputs)
        One task's targets; missing cells (NaN, None, pd.NA) are ignored.
    sequence : bool, default=False
        Whether list cells are tag sequences (a tagger's token-level task)
        rather than label sets.
    name : str, default=None
        The task's name, for the error messages.

    Returns
    -------
    task_type : str
        A name of :data:`skmtl.tasks.TASK_TYPES`.

    Raises
    ------
    ValueError
        If every cell is missing, labels mix types, or the type cannot be recognised.

    Examples
    --------
    >>> from skmtl.tasks import infer_task_type
    >>> infer_task_type([1.0, float("nan"), 0.0])
    'binary'
    >>> infer_task_type(["a", "b", None, "c"])
    'multiclass'
    >>> infer_task_type([("a",), (), None])
    'multilabel'
    >>> infer_task_type([0.5, 1.25, None])
    'continuous'
    >>> infer_task_type([["DET", "NOUN"], None], sequence=True)
    'token'
    """
    prefix = "" if name is None else f"Task {name!r}: "
    arr = as_column(column, "y" if name is None else f"Task {name!r}")
    if arr.ndim not in (1, 2):
        raise ValueError(f"{prefix}expected a 1-D or 2-D column, got shape {arr.shape}.")
    labelled = arr[~missing_mask(arr)]
    if len(labelled) == 0:
        raise ValueError(all_missing_message(name))
    if arr.ndim == 2:
        return _block_type(labelled, prefix)
    if labelled.dtype.kind == "O":
        sets = np.fromiter((is_label_set(c) for c in labelled), dtype=bool, count=len(labelled))
        if sequence and sets.any():
            if not sets.all():
                raise ValueError(
                    f"{prefix}mixes tag lists and other labels; a token-level task needs a "
                    "list of tags in every labelled cell, a document-level task a single label."
                )
            bad = next((c for c in labelled if not is_tag_sequence(c)), None)
            if bad is not None:
                raise ValueError(
                    f"{prefix}a {type(bad).__name__} has no order; a token-level task's "
                    "cells must be lists (or tuples) of tags, one per token."
                )
            return "token"
        if sets.any():
            return "multilabel"
        try:
            labelled = uniform_array(labelled)
        except TypeError as exc:
            raise ValueError(f"{prefix}labels mix types ({exc}).") from None
    if labelled.dtype.kind in "fc" and not np.all(np.isfinite(labelled)):
        raise ValueError(f"{prefix or 'y: '}has non-finite values (inf); a label must be finite.")
    kind = type_of_target(labelled)
    if kind in ("binary", "multiclass", "continuous"):
        return kind
    raise ValueError(
        f"{prefix}unknown label type {kind!r}; give the task's type in `tasks` "
        "(binary, multiclass, multilabel or continuous)."
    )


def _block_type(labelled: np.ndarray, prefix: str) -> str:
    """The type of a 2-D block: a 0/1 indicator matrix, or numbers."""
    try:
        values = labelled.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{prefix}a 2-D block must hold numbers.") from None
    kind = type_of_target(values)
    if kind == "multilabel-indicator":
        return "multilabel"
    if kind in ("continuous-multioutput", "multiclass-multioutput", "continuous"):
        return "continuous"
    if kind in ("binary", "multiclass") and values.shape[1] == 1:
        # one column of a dict's 2-D block: 0/1 is an indicator of one label, other
        # numbers are values (a block never holds class labels)
        return "multilabel" if np.isin(values, (0.0, 1.0)).all() else "continuous"
    raise ValueError(
        f"{prefix}cannot infer a task type for a 2-D block of type {kind!r} (one column of "
        "labels?); give a 1-D column, or the task's type in `tasks`."
    )
