"""Detection of missing labels.

Missing labels are data, not errors: a NaN, ``None`` or ``pd.NA`` cell masks
that example out of that task's loss and metrics only.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["is_missing", "missing_mask"]


def is_missing(cell: object) -> bool:
    """Return True when a single target cell means "no label".

    ``None``, float NaN (numpy or Python) and ``pandas.NA`` / ``NaT`` are
    missing. Lists, sets, tuples and arrays (multilabel cells) are never
    missing, even when empty: an empty set is the label "none of them".

    Examples
    --------
    >>> from skmtl.utils import is_missing
    >>> is_missing(None), is_missing(float("nan")), is_missing(0), is_missing([])
    (True, True, False, False)
    """
    if cell is None:
        return True
    if isinstance(cell, (str, bytes, list, tuple, set, frozenset, np.ndarray)):
        return False
    if isinstance(cell, numbers.Number) and not isinstance(cell, numbers.Integral):
        try:
            return bool(np.isnan(cell))
        except TypeError:
            return False
    # pandas.NA and NaT without importing pandas.
    type_name = type(cell).__name__
    return type_name in {"NAType", "NaTType"}


def missing_mask(column: Iterable | np.ndarray) -> np.ndarray:
    """Boolean mask, True where a 1-D target column has no label.

    For a 2-D numeric block (a multi-column task) a row is missing when any
    of its cells is NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.utils import missing_mask
    >>> missing_mask(np.array([1.0, np.nan, 3.0]))
    array([False,  True, False])
    >>> missing_mask(["a", None, ["b", "c"]])
    array([False,  True, False])
    """
    arr = column if isinstance(column, np.ndarray) else None
    if arr is None and hasattr(column, "to_numpy"):
        # pandas Series / DataFrame: object dtype keeps pd.NA recognisable.
        # Nullable extension dtypes (Int64, boolean, string) hold pd.NA: keep
        # them as objects so the NA cells stay recognisable.
        numpy_dtype = isinstance(getattr(column, "dtype", None), np.dtype)
        arr = column.to_numpy() if numpy_dtype else column.to_numpy(dtype=object)
    if arr is not None and arr.dtype.kind in "fc":
        mask = np.isnan(arr)
        return mask.any(axis=1) if mask.ndim == 2 else mask
    if arr is not None and arr.dtype.kind in "iub":
        return np.zeros(arr.shape[0], dtype=bool)
    if arr is None:
        cells = list(column)
        arr = np.empty(len(cells), dtype=object)
        arr[:] = cells  # keeps list cells as cells instead of a 2-D array
    # pandas' C loop recognises None, NaN (any float type), pd.NA and NaT;
    # list, tuple and set cells are never missing.
    mask = pd.isna(arr.astype(object, copy=False))
    return mask.any(axis=1) if mask.ndim == 2 else mask
