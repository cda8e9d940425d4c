"""From the user's Y to one task object and raw column per task, and predictions back.

Y may be a 1-D or 2-D array, a pandas Series or DataFrame (columns are task
names) or a dict of 1-D/2-D arrays. :func:`split_targets` cuts it into raw
columns, :func:`resolve_tasks` groups them into tasks, sets or infers each
task's type and fits a task object (:mod:`skmtl.tasks`) on each, and
:func:`assemble` puts per-task predictions back into the layout Y came in.
Missing cells (NaN, None, pd.NA) are recorded by the tasks' encodings, never
an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..utils import is_missing
from ._cells import as_column
from ._infer import infer_task_type
from ._task import Task

__all__ = ["TargetLayout", "assemble", "columns_for", "resolve_tasks", "split_targets"]


@dataclass
class TargetLayout:
    """How Y was given, so that predictions come back in the same shape."""

    kind: str  # "1d", "2d", "frame", "dict"
    columns: list  # original column labels / dict keys / indices
    series_name: object = None


# ---------------------------------------------------------------- splitting


def split_targets(Y, n_samples: int | None = None) -> tuple[TargetLayout, dict[str, object]]:
    """Cut Y into raw per-column arrays keyed by task name (not yet grouped).

    Returns the layout and ``{name: column}`` where each column is a 1-D
    array (object or numeric) or, for dict values, possibly a 2-D block.
    Task names are ``str(key)``: two keys with the same str (``1`` and ``"1"``)
    are an error.
    """
    if Y is None:
        raise ValueError(
            "y is None: this estimator requires y to be passed, but the target y is None."
        )
    if isinstance(Y, Mapping):
        if not Y:
            raise ValueError("Y is an empty dict: give at least one task.")
        _check_distinct_names(list(Y.keys()), "Y's keys")
        columns = {}
        for key, value in Y.items():
            arr = as_column(value, f"Y[{key!r}]")
            if arr.ndim not in (1, 2):
                raise ValueError(
                    f"Task {key!r}: expected a 1-D or 2-D array, got shape {arr.shape}."
                )
            columns[str(key)] = arr
        _check_same_length(columns)
        return TargetLayout("dict", list(Y.keys())), columns
    if hasattr(Y, "columns") and hasattr(Y, "iloc"):  # pandas DataFrame
        if Y.shape[1] == 0:
            raise ValueError("Y has no columns: give at least one task.")
        _check_distinct_names(list(Y.columns), "Y's columns")
        columns = {str(c): as_column(Y[c], f"column {c!r}") for c in Y.columns}
        return TargetLayout("frame", list(Y.columns)), columns
    if hasattr(Y, "to_numpy") and hasattr(Y, "name"):  # pandas Series
        name = "0" if Y.name is None else str(Y.name)
        return TargetLayout("1d", [0], series_name=Y.name), {name: as_column(Y, "y")}
    arr = Y if isinstance(Y, np.ndarray) else _list_to_array(Y)
    if arr.dtype.kind == "O" and arr.ndim == 0:
        raise ValueError(f"Y must be array-like, a DataFrame or a dict; got {type(Y).__name__}.")
    if arr.ndim == 1:
        return TargetLayout("1d", [0]), {"0": arr}
    if arr.ndim == 2:
        if arr.shape[1] == 0:
            raise ValueError("Y has no columns: give at least one task.")
        return TargetLayout("2d", list(range(arr.shape[1]))), {
            str(j): arr[:, j] for j in range(arr.shape[1])
        }
    raise ValueError(f"Y must be 1-D or 2-D; got an array of shape {arr.shape}.")


def _list_to_array(Y) -> np.ndarray:
    """A plain list (or other sequence) Y as an array without changing its cells.

    Rows of equal-length lists give a 2-D Y; a list whose cells are label sets
    (tuples, sets: a multilabel task) or whose cells mix types (``"pos"`` and NaN)
    stays a 1-D object column, so that NaN stays a missing label and label sets
    may differ in length.
    """
    if isinstance(Y, (list, tuple)):
        cells = list(Y)
        label_sets = any(isinstance(c, (tuple, set, frozenset)) for c in cells)
        mixed = len({type(c) for c in cells if not isinstance(c, (list, np.ndarray))}) > 1
        if label_sets or mixed:
            out = np.empty(len(cells), dtype=object)
            out[:] = cells
            return out
    try:
        return np.asarray(Y)
    except ValueError:  # ragged rows
        raise ValueError(
            "Y is a list of rows of different lengths; give a 2-D array with one column "
            "per task, a DataFrame, or tuples of labels for a multilabel task."
        ) from None


def _check_distinct_names(keys: list, what: str) -> None:
    """Task names are ``str(key)``: two keys that give one name would merge two tasks."""
    first: dict[str, object] = {}
    for key in keys:
        name = str(key)
        if name in first:
            raise ValueError(
                f"{what} {first[name]!r} and {key!r} both give the task name {name!r}; "
                "task names (str of each key) must be distinct."
            )
        first[name] = key


def _check_same_length(columns: dict[str, np.ndarray]) -> None:
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"Y's tasks have different numbers of rows: {lengths}.")


# ---------------------------------------------------------------- grouping


def _parse_tasks_param(tasks_param) -> dict[str, dict]:
    """``tasks`` as ``{name: {"type": ..., ["columns": [...]]}}``, validated."""
    from . import TASK_TYPES

    if tasks_param is None:
        return {}
    if not isinstance(tasks_param, Mapping):
        raise ValueError(
            f"`tasks` must be None or a dict {{task name: type}}; got {type(tasks_param).__name__}."
        )
    _check_distinct_names(list(tasks_param.keys()), "`tasks` keys")
    spec: dict[str, dict] = {}
    for key, value in tasks_param.items():
        entry = {"type": value} if isinstance(value, str) else dict(value)
        if "type" not in entry or entry["type"] not in TASK_TYPES:
            raise ValueError(
                f"`tasks[{key!r}]`: type must be one of {tuple(TASK_TYPES)}, "
                f"got {entry.get('type')!r}."
            )
        spec[str(key)] = entry
    return spec


def _group_columns(spec: dict[str, dict], columns: dict) -> list[tuple[str, list[str]]]:
    """``[(task name, its column names)]`` in Y's column order."""
    grouped: dict[str, list[str]] = {}
    for name, entry in spec.items():
        if "columns" in entry:
            cols = [str(c) for c in entry["columns"]]
            unknown = [c for c in cols if c not in columns]
            if unknown:
                raise ValueError(
                    f"`tasks[{name!r}]` names unknown columns {unknown}; Y has {list(columns)}."
                )
            if entry["type"] != "continuous" and len(cols) > 1:
                raise ValueError(
                    f"`tasks[{name!r}]`: only continuous tasks may span several columns."
                )
            grouped[name] = cols
    unknown = [n for n in spec if n not in columns and n not in grouped]
    if unknown:
        raise ValueError(
            f"`tasks` names unknown tasks {unknown}; the tasks in Y are {list(columns)}."
        )
    claimed: dict[str, str] = {}
    for group, cols in grouped.items():
        for c in cols:
            if c in claimed:
                raise ValueError(
                    f"`tasks[{claimed[c]!r}]` and `tasks[{group!r}]` both claim column {c!r}."
                )
            claimed[c] = group
    order: list[tuple[str, list[str]]] = []
    for col in columns:
        if col not in claimed:
            order.append((col, [col]))
        elif all(g != claimed[col] for g, _ in order):
            order.append((claimed[col], grouped[claimed[col]]))
    return order


def resolve_tasks(
    layout: TargetLayout,
    columns: dict[str, np.ndarray],
    tasks_param,
    allowed_types: tuple[str, ...] | None,
    forced_type: str | None,
    estimator_name: str,
    sequence: bool = False,
) -> tuple[list[Task], dict[str, np.ndarray]]:
    """Group columns into tasks, set or infer each task's type, fit its task object.

    ``tasks_param`` is None or a dict ``{task: type}`` or
    ``{task: {"type": type, "columns": [...]}}`` (the latter groups several
    continuous columns of a DataFrame/array into one task). ``allowed_types``:
    the type names the estimator takes (None: every one of
    :data:`skmtl.tasks.TASK_TYPES`); ``forced_type``: the type of every task
    that ``tasks`` does not name (None: inferred). ``sequence``: list cells are
    tag sequences (token-level tasks), as for a tagger.
    Returns the tasks and ``{task name: raw column or block}``.
    """
    from . import TASK_TYPES, get_task_type

    if allowed_types is None:
        allowed_types = tuple(TASK_TYPES)
    spec = _parse_tasks_param(tasks_param)
    label_of = (
        {str(c): c for c in layout.columns}
        if layout.kind in ("frame", "dict")
        else {str(j): j for j in range(len(columns))}
    )
    tasks, raw = [], {}
    for name, cols in _group_columns(spec, columns):
        if len(cols) == 1:
            column = columns[cols[0]]
        else:
            column = np.column_stack([np.asarray(columns[c], dtype=object) for c in cols])
            column = _to_float_block(name, column)
        if name in spec:
            task_type = spec[name]["type"]
        elif forced_type is not None:
            task_type = forced_type
        else:
            task_type = infer_task_type(column, sequence=sequence, name=name)
            if task_type not in allowed_types:
                raise ValueError(
                    f"Unknown label type: task {name!r} looks {task_type}, which "
                    f"{estimator_name} does not handle (it takes {', '.join(allowed_types)}). "
                    "Set the task's type in `tasks` or use MultiTaskEstimator."
                )
        if task_type not in allowed_types and task_type != "binary":
            raise ValueError(
                f"Task {name!r}: type {task_type!r} is not handled by {estimator_name} "
                f"(it takes {', '.join(allowed_types)})."
            )
        if forced_type == "continuous" and column.ndim == 1 and column.dtype.kind == "O":
            column = _to_float_block(name, column)
        task_cls = get_task_type(task_type)
        tasks.append(task_cls.from_column(name, column, [label_of.get(c, c) for c in cols]))
        raw[name] = column
    return tasks, raw


def _to_float_block(name: str, column: np.ndarray) -> np.ndarray:
    out = np.empty(column.shape, dtype=np.float64)
    flat_in, flat_out = column.reshape(-1), out.reshape(-1)
    for i, cell in enumerate(flat_in):
        if is_missing(cell):
            flat_out[i] = np.nan
            continue
        try:
            flat_out[i] = float(cell)
        except (TypeError, ValueError):
            raise ValueError(
                f"Unknown label type: task {name!r} has a non-numeric value {cell!r}; "
                "a continuous task needs numbers."
            ) from None
    return out


def columns_for(layout: TargetLayout, tasks: list[Task], Y) -> dict[str, np.ndarray]:
    """Pull each fitted task's raw column out of a new Y (for ``score``).

    A model fitted on a 1-D y takes any 1-D y: a Series name is no task name
    to match (``fit(X, y_series)`` then ``score(X, y_array)`` works).
    """
    new_layout, columns = split_targets(Y)
    if layout.kind == "1d" and new_layout.kind == "1d":
        return {tasks[0].name: next(iter(columns.values()))}
    out = {}
    for task in tasks:
        keys = [str(c) for c in task.columns]
        missing = [k for k in keys if k not in columns]
        if missing:
            raise ValueError(
                f"Y lacks the column(s) {missing} of task {task.name!r}; it has {list(columns)}."
            )
        if len(keys) == 1:
            out[task.name] = columns[keys[0]]
        else:
            out[task.name] = _to_float_block(
                task.name, np.column_stack([np.asarray(columns[k], dtype=object) for k in keys])
            )
    return out


# ---------------------------------------------------------------- assembling


def assemble(layout: TargetLayout, tasks: list[Task], decoded: dict[str, object], *, index=None):
    """Put per-task predictions back into the layout Y was given in.

    ``index``: the row index of a ``"frame"`` layout's DataFrame (e.g. the input
    DataFrame's index), default a RangeIndex.
    """
    if layout.kind == "1d":  # one task, whatever its (Series) name
        return decoded[tasks[0].name]
    by_column: dict[str, object] = {}
    for task in tasks:
        pred = decoded[task.name]
        if len(task.columns) > 1:
            for j, col in enumerate(task.columns):
                by_column[str(col)] = pred[:, j]
        else:
            by_column[str(task.columns[0])] = pred
    if layout.kind == "dict":
        return {key: by_column[str(key)] for key in layout.columns}
    ordered = [by_column[str(c)] for c in layout.columns]
    if layout.kind == "frame":
        import pandas as pd

        data = dict(zip(layout.columns, ordered, strict=True))
        return pd.DataFrame(data, columns=layout.columns, index=index)
    return _stack(ordered)


def _stack(ordered: list[np.ndarray]) -> np.ndarray:
    """Columns side by side: numeric if they all are, object otherwise."""
    kinds = {v.dtype.kind for v in ordered}
    if kinds <= set("iuf") or kinds == {"b"}:  # bools beside numbers would become 0 / 1
        return np.column_stack(ordered)
    dtypes = {v.dtype for v in ordered}
    if len(dtypes) == 1 and next(iter(dtypes)).kind != "O":
        return np.column_stack(ordered)
    out = np.empty((len(ordered[0]), len(ordered)), dtype=object)
    for j, v in enumerate(ordered):
        out[:, j] = v
    return out
