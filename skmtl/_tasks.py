"""Targets: from the user's Y to one encoded array per task, and back.

Y may be a 1-D or 2-D array, a pandas Series or DataFrame (columns are task
names) or a dict of 1-D/2-D arrays. Each task is one of four types:

``binary`` / ``multiclass``
    one label per cell; trained with softmax cross-entropy.
``multilabel``
    each cell is a list/tuple/set of labels (or a row of a 2-D 0/1 block in
    a dict); trained with per-label sigmoid cross-entropy.
``continuous``
    one float per cell, or a 2-D float block for a multi-column task;
    trained with squared error on standardised targets.

Missing cells (NaN, None, pd.NA) are recorded in a mask, never an error.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.utils.multiclass import type_of_target

from .utils import is_missing, missing_mask

TASK_TYPES = ("binary", "multiclass", "multilabel", "continuous")
CLASSIFICATION_TYPES = ("binary", "multiclass")

__all__ = ["Task", "TASK_TYPES"]


@dataclass
class Task:
    """What a fitted model knows about one task.

    Attributes
    ----------
    name : str
        Task name (the DataFrame column or dict key; ``"0"``, ``"1"``, ... for
        arrays).
    type : str
        One of ``"binary"``, ``"multiclass"``, ``"multilabel"``, ``"continuous"``.
    classes : ndarray or None
        Labels of a classification or multilabel task, sorted; None for a
        continuous task.
    columns : list
        The Y columns this task came from (several for a multi-column
        continuous task).
    n_outputs : int
        Width of the task head's output layer.
    """

    name: str
    type: str
    classes: np.ndarray | None
    columns: list
    n_outputs: int
    block: bool = False  # the task came from a 2-D block (dict value)
    mean: np.ndarray | None = field(default=None, repr=False)
    scale: np.ndarray | None = field(default=None, repr=False)

    @property
    def is_classification(self) -> bool:
        return self.type in CLASSIFICATION_TYPES


@dataclass
class EncodedTask:
    """Training arrays of one task: ``target`` plus a ``labelled`` row mask."""

    target: np.ndarray  # int64 (n,) with -1 for missing, or float32 (n, k)
    labelled: np.ndarray  # bool (n,)


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
    """
    if Y is None:
        raise ValueError(
            "y is None: this estimator requires y to be passed, but the target y is None."
        )
    if isinstance(Y, Mapping):
        if not Y:
            raise ValueError("Y is an empty dict: give at least one task.")
        columns = {}
        for key, value in Y.items():
            arr = _as_column(value, f"Y[{key!r}]")
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
        names = [str(c) for c in Y.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"Y has duplicate column names: {names}.")
        columns = {str(c): _as_column(Y[c], f"column {c!r}") for c in Y.columns}
        return TargetLayout("frame", list(Y.columns)), columns
    if hasattr(Y, "to_numpy") and hasattr(Y, "name"):  # pandas Series
        name = "0" if Y.name is None else str(Y.name)
        return TargetLayout("1d", [0], series_name=Y.name), {name: _as_column(Y, "y")}
    arr = np.asarray(Y) if not isinstance(Y, np.ndarray) else Y
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


def _as_column(value, what: str) -> np.ndarray:
    if hasattr(value, "to_numpy"):
        dtype = getattr(value, "dtype", None)
        # Nullable pandas dtypes (Int64, string, boolean) hold pd.NA.
        return value.to_numpy() if isinstance(dtype, np.dtype) else value.to_numpy(dtype=object)
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, Sequence) and not isinstance(value, str):
        # A list of label lists must stay 1-D (one cell per row).
        if any(isinstance(v, (list, tuple, set, frozenset, np.ndarray)) for v in value):
            out = np.empty(len(value), dtype=object)
            out[:] = [v for v in value]
            return out
        return np.asarray(value)
    raise ValueError(f"{what}: expected an array-like, got {type(value).__name__}.")


def _check_same_length(columns: dict[str, np.ndarray]) -> None:
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"Y's tasks have different numbers of rows: {lengths}.")


# ---------------------------------------------------------------- inference


def _is_label_set(cell) -> bool:
    return isinstance(cell, (list, tuple, set, frozenset, np.ndarray))


def infer_task_type(name: str, column: np.ndarray) -> str:
    """Infer a task's type from its labelled cells with ``type_of_target``."""
    labelled = column[~missing_mask(column)]
    if len(labelled) == 0:
        raise ValueError(_all_missing_message(name))
    if column.ndim == 2:
        kind = type_of_target(labelled.astype(np.float64))
        if kind == "multilabel-indicator":
            return "multilabel"
        if kind in ("continuous-multioutput", "multiclass-multioutput", "continuous"):
            return "continuous"
        raise ValueError(
            f"Task {name!r}: cannot infer a task type for a 2-D block of type {kind!r}."
        )
    if labelled.dtype.kind == "O" and any(_is_label_set(c) for c in labelled):
        return "multilabel"
    if labelled.dtype.kind == "O":
        try:
            labelled = _uniform_array(labelled)
        except TypeError as exc:
            raise ValueError(f"Task {name!r}: labels mix types ({exc}).") from None
    kind = type_of_target(labelled)
    if kind in ("binary", "multiclass", "continuous"):
        return kind
    raise ValueError(
        f"Task {name!r}: unknown label type {kind!r}; give the type in `tasks` "
        f"(one of {TASK_TYPES})."
    )


def _uniform_array(values: np.ndarray) -> np.ndarray:
    """Turn an object array of scalars into a numeric or str array."""
    if all(isinstance(v, str) for v in values):
        return values.astype(str)
    if all(isinstance(v, numbers.Integral) for v in values):
        return values.astype(np.int64)
    if all(isinstance(v, numbers.Number) for v in values):
        return values.astype(np.float64)
    types = sorted({type(v).__name__ for v in values})
    raise TypeError(", ".join(types))


def _all_missing_message(name: str) -> str:
    return (
        f"Task {name!r} has no labelled rows: every cell is missing "
        "(Input y contains NaN or None in every row of this task)."
    )


# ---------------------------------------------------------------- encoding


def build_task(name: str, task_type: str, column: np.ndarray, columns: list) -> Task:
    """Learn a task's label space (classes, or mean/scale) from its column."""
    labelled_mask = ~missing_mask(column)
    labelled = column[labelled_mask]
    if len(labelled) == 0:
        raise ValueError(_all_missing_message(name))
    block = column.ndim == 2
    if task_type in CLASSIFICATION_TYPES:
        if block:
            raise ValueError(
                f"Task {name!r}: a {task_type} task needs a 1-D column, got a 2-D block."
            )
        values = _labels_array(name, labelled)
        if values.dtype.kind == "f":
            if not np.all(np.isfinite(values)):
                raise ValueError(f"Input y contains infinity: task {name!r} has non-finite labels.")
            if np.any(values != np.round(values)):
                raise ValueError(
                    f"Unknown label type: task {name!r} is continuous, not {task_type}; "
                    "use MultiTaskRegressor or set its type in `tasks`."
                )
        classes = np.unique(values)
        if len(classes) < 2:
            raise ValueError(
                f"Task {name!r} has only one class ({_scalar(classes[0])!r}) in its labelled rows; "
                "a classification task needs at least 2 classes."
            )
        return Task(
            name,
            "binary" if len(classes) == 2 else "multiclass",
            classes,
            columns,
            len(classes),
            block,
        )
    if task_type == "multilabel":
        if block:
            classes = np.arange(column.shape[1])
            values = labelled.astype(np.float64)
            if not np.all(np.isin(values, (0, 1))):
                raise ValueError(f"Task {name!r}: a multilabel block must hold only 0 and 1.")
        else:
            seen: set = set()
            for row, cell in zip(np.flatnonzero(labelled_mask), labelled, strict=False):
                if not _is_label_set(cell):
                    raise ValueError(
                        f"Task {name!r}, row {row}: a multilabel cell must be a list, tuple or "
                        f"set of labels (or missing), got {cell!r}."
                    )
                seen.update(cell)
            if not seen:
                raise ValueError(f"Task {name!r}: no row has any label; nothing to learn.")
            try:
                classes = np.array(sorted(seen))
            except TypeError:
                raise ValueError(f"Task {name!r}: labels mix types and cannot be sorted.") from None
        return Task(name, "multilabel", classes, columns, len(classes), block)
    if task_type == "continuous":
        try:
            values = np.asarray(labelled, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"Unknown label type: task {name!r} has non-numeric values "
                "and cannot be continuous."
            ) from None
        if values.ndim == 1:
            values = values[:, None]
        if not np.all(np.isfinite(values)):
            raise ValueError(f"Input y contains infinity: task {name!r} has non-finite values.")
        mean = values.mean(axis=0)
        scale = values.std(axis=0)
        scale[scale < 1e-12] = 1.0
        return Task(name, "continuous", None, columns, values.shape[1], block, mean, scale)
    raise ValueError(
        f"Task {name!r}: unknown task type {task_type!r}; expected one of {TASK_TYPES}."
    )


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value


def _labels_array(name: str, values: np.ndarray) -> np.ndarray:
    """Labels as a str or numeric array (object columns come from pandas)."""
    if values.dtype.kind != "O":
        return values
    try:
        return _uniform_array(values)
    except TypeError as exc:
        raise ValueError(f"Task {name!r}: labels mix types ({exc}).") from None


def encode_task(task: Task, column: np.ndarray, *, check_unseen: bool = False) -> EncodedTask:
    """Encode one column for training or scoring, with a labelled-row mask."""
    labelled = ~missing_mask(column)
    n = len(column)
    rows = np.flatnonzero(labelled)
    if task.is_classification:
        target = np.full(n, -1, dtype=np.int64)
        values = _labels_array(task.name, column[labelled])
        try:
            idx = np.clip(np.searchsorted(task.classes, values), 0, len(task.classes) - 1)
            unseen = task.classes[idx] != values
        except TypeError:  # str labels against numeric classes, or the reverse
            idx, unseen = np.zeros(len(values), dtype=int), np.ones(len(values), dtype=bool)
        if np.any(unseen):
            bad = sorted({repr(_scalar(v)) for v in values[unseen]})
            raise ValueError(
                f"Task {task.name!r}: labels {', '.join(bad[:5])} were never seen in fit "
                f"(first at row {rows[np.argmax(unseen)]}); known classes: {task.classes.tolist()}."
            )
        target[labelled] = idx
        return EncodedTask(target, labelled)
    if task.type == "multilabel":
        target = np.zeros((n, task.n_outputs), dtype=np.float32)
        if task.block:
            target[labelled] = column[labelled].astype(np.float32)
            return EncodedTask(target, labelled)
        index = {label: j for j, label in enumerate(task.classes.tolist())}
        for row in rows:
            cell = column[row]
            if not _is_label_set(cell):
                raise ValueError(
                    f"Task {task.name!r}, row {row}: a multilabel cell must be a list, tuple or "
                    f"set of labels (or missing), got {cell!r}."
                )
            for label in cell:
                j = index.get(_scalar(label))
                if j is None:
                    if check_unseen:
                        raise ValueError(
                            f"Task {task.name!r}, row {row}: label {label!r} was never seen in "
                            f"fit; known labels: {task.classes.tolist()}."
                        )
                    continue  # a label the model cannot predict adds no training signal
                target[row, j] = 1.0
        return EncodedTask(target, labelled)
    values = np.zeros((n, task.n_outputs), dtype=np.float64)
    if len(rows):
        vals = np.asarray(column[labelled], dtype=np.float64).reshape(len(rows), task.n_outputs)
        if not np.all(np.isfinite(vals)):
            raise ValueError(
                f"Input y contains infinity: task {task.name!r} has non-finite values."
            )
        values[labelled] = (vals - task.mean) / task.scale
    return EncodedTask(values.astype(np.float32), labelled)


# ---------------------------------------------------------------- grouping


def resolve_tasks(
    layout: TargetLayout,
    columns: dict[str, np.ndarray],
    tasks_param,
    allowed_types: tuple[str, ...],
    forced_type: str | None,
    estimator_name: str,
) -> tuple[list[Task], dict[str, np.ndarray]]:
    """Group columns into tasks, set or infer each task's type, learn labels.

    ``tasks_param`` is None or a dict ``{task: type}`` or
    ``{task: {"type": type, "columns": [...]}}`` (the latter groups several
    continuous columns of a DataFrame/array into one task).
    Returns the tasks and ``{task name: raw column or block}``.
    """
    spec: dict[str, dict] = {}
    if tasks_param is not None:
        if not isinstance(tasks_param, Mapping):
            raise ValueError(
                "`tasks` must be None or a dict {task name: type}; "
                f"got {type(tasks_param).__name__}."
            )
        for key, value in tasks_param.items():
            entry = {"type": value} if isinstance(value, str) else dict(value)
            if "type" not in entry or entry["type"] not in TASK_TYPES:
                raise ValueError(
                    f"`tasks[{key!r}]`: type must be one of {TASK_TYPES}, "
                    f"got {entry.get('type')!r}."
                )
            spec[str(key)] = entry
    label_of = (
        {str(c): c for c in layout.columns}
        if layout.kind in ("frame", "dict")
        else {str(j): j for j in range(len(columns))}
    )
    grouped: dict[str, list[str]] = {}
    claimed: set[str] = set()
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
            claimed.update(cols)
    unknown = [n for n in spec if n not in columns and n not in grouped]
    if unknown:
        raise ValueError(
            f"`tasks` names unknown tasks {unknown}; the tasks in Y are {list(columns)}."
        )
    order: list[tuple[str, list[str]]] = []
    for col in columns:
        if col in claimed:
            group = next(g for g, cols in grouped.items() if col in cols)
            if all(g != group for g, _ in order):
                order.append((group, grouped[group]))
        else:
            order.append((col, [col]))

    tasks, raw = [], {}
    for name, cols in order:
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
            task_type = infer_task_type(name, column)
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
        task = build_task(name, task_type, column, [label_of.get(c, c) for c in cols])
        tasks.append(task)
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


# ---------------------------------------------------------------- decoding


def decode_predictions(task: Task, output: np.ndarray, threshold) -> np.ndarray:
    """Turn a head's probabilities (or standardised values) into labels."""
    if task.is_classification:
        return task.classes[np.argmax(output, axis=1)]
    if task.type == "multilabel":
        on = output >= np.asarray(threshold, dtype=np.float64)
        if task.block:
            return on.astype(np.int64)
        out = np.empty(len(output), dtype=object)
        labels = task.classes.tolist()
        out[:] = [tuple(labels[j] for j in np.flatnonzero(row)) for row in on]
        return out
    values = output.astype(np.float64) * task.scale + task.mean
    return values[:, 0] if task.n_outputs == 1 and not task.block else values


def assemble(layout: TargetLayout, tasks: list[Task], decoded: dict[str, np.ndarray]):
    """Put per-task predictions back into the layout Y was given in."""
    if layout.kind == "1d":  # one task, whatever its (Series) name
        return decoded[tasks[0].name]
    by_column: dict[str, np.ndarray] = {}
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

        return pd.DataFrame(
            {c: v for c, v in zip(layout.columns, ordered, strict=False)}, columns=layout.columns
        )
    if all(v.dtype.kind in "biuf" for v in ordered):
        return np.column_stack(ordered)
    dtypes = {v.dtype for v in ordered}
    if len(dtypes) == 1 and next(iter(dtypes)).kind != "O":
        return np.column_stack(ordered)
    out = np.empty((len(ordered[0]), len(ordered)), dtype=object)
    for j, v in enumerate(ordered):
        out[:, j] = v
    return out
