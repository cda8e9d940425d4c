"""Cell-level helpers shared by the task types: columns, label sets, uniform labels."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "LABEL_SET_TYPES",
    "all_missing_message",
    "as_column",
    "is_label_set",
    "is_tag_sequence",
    "labels_array",
    "scalar",
    "uniform_array",
]

#: Cell types that hold a *set* of labels (multilabel) or a tag sequence (token).
LABEL_SET_TYPES = (list, tuple, set, frozenset, np.ndarray, pd.Series)


def is_label_set(cell: object) -> bool:
    """Whether a cell is a collection of labels rather than one label."""
    return isinstance(cell, LABEL_SET_TYPES)


def is_tag_sequence(cell: object) -> bool:
    """Whether a cell is an ordered sequence of tags (a set is not)."""
    return isinstance(cell, (list, tuple, np.ndarray, pd.Series))


def as_column(value: object, what: str = "y") -> np.ndarray:
    """One task's cells as an array: numeric, str, or object with label-set cells kept whole.

    pandas objects keep pd.NA recognisable (nullable dtypes become object); a
    list holding label lists stays 1-D (one cell per row); a list mixing str
    and other scalars is not silently turned into strings.
    """
    if hasattr(value, "to_numpy"):
        dtype = getattr(value, "dtype", None)
        return value.to_numpy() if isinstance(dtype, np.dtype) else value.to_numpy(dtype=object)
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"{what}: expected an array-like, got {type(value).__name__}.")
    cells = value if isinstance(value, Sequence) else list(value)
    if any(is_label_set(c) for c in cells):
        return _object_array(cells)
    arr = np.asarray(cells)
    if arr.dtype.kind in "US" and not all(isinstance(c, (str, bytes)) for c in cells):
        return _object_array(cells)  # np.asarray([1, "a"]) would give ["1", "a"]
    if arr.dtype.kind == "f" and any(isinstance(c, (bool, np.bool_)) for c in cells):
        return _object_array(cells)  # [True, nan] would give [1.0, nan]: keep the bools
    return arr


def _object_array(cells: Sequence) -> np.ndarray:
    out = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):  # element-wise: equal-length tuples stay whole
        out[i] = cell
    return out


def uniform_array(values: np.ndarray) -> np.ndarray:
    """Turn an object array of scalar labels into a str, int64 or float64 array.

    Raises TypeError listing the types when the labels mix kinds.
    """
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if all(isinstance(v, str) for v in items):
        return np.asarray(items, dtype=str)
    if all(isinstance(v, (bool, np.bool_)) for v in items):
        return np.asarray(items, dtype=bool)
    if all(isinstance(v, (numbers.Integral, np.bool_)) for v in items):
        return np.asarray(items, dtype=np.int64)
    if all(isinstance(v, (numbers.Number, np.bool_)) for v in items):
        return np.asarray(items, dtype=np.float64)
    types = sorted({type(v).__name__ for v in items})
    raise TypeError(", ".join(types))


def labels_array(name: str, values: np.ndarray) -> np.ndarray:
    """Labels as a str or numeric array (object columns come from pandas or lists)."""
    if values.dtype.kind != "O":
        return values
    try:
        return uniform_array(values)
    except TypeError as exc:
        raise ValueError(f"Task {name!r}: labels mix types ({exc}).") from None


def scalar(value: object) -> object:
    """A NumPy scalar as the Python value (for messages and dict keys)."""
    return value.item() if isinstance(value, np.generic) else value


def all_missing_message(name: str | None) -> str:
    if name is None:
        return "Every cell is missing: there is no label to infer a task type from."
    return (
        f"Task {name!r} has no labelled rows: every cell is missing "
        "(Input y contains NaN or None in every row of this task)."
    )
