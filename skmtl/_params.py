"""Per-task parameters: ``task_weights``, ``threshold``, ``class_weight`` by task name.

A per-task parameter is None, one value for every task, a sequence in task
order, a dict by task name, or a :class:`PerTask` dict (named entries plus a
default for the other tasks). ``set_params(task_weights__ner=2)`` turns a
scalar into ``PerTask({"ner": 2}, default=<the scalar>)``, so the scalar stays
the default of the other tasks.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = ["PerTask", "is_scalar", "per_task_values", "set_per_task", "store_init_params"]


class PerTask(dict):
    """A dict by task name with a ``default`` for the tasks it does not name.

    Parameters
    ----------
    entries : mapping or iterable of (task, value) pairs, default=()
        The values of the named tasks.
    default : object, default=None
        The value of every task the entries do not name.

    Examples
    --------
    >>> from skmtl import PerTask
    >>> w = PerTask({"ner": 3.0}, default=0.5)
    >>> w
    PerTask({'ner': 3.0}, default=0.5)
    >>> w.get("upos", w.default)
    0.5
    """

    def __init__(self, entries=(), default=None) -> None:
        super().__init__(entries)
        self.default = default

    def __repr__(self) -> str:
        return f"PerTask({dict(self)!r}, default={self.default!r})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict.__eq__(self, dict(other)) and self.default == getattr(other, "default", None)

    def __ne__(self, other) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None

    def __reduce__(self):
        return (PerTask, (dict(self), self.default))


def is_scalar(value) -> bool:
    return isinstance(value, (str, numbers.Number)) or (
        isinstance(value, np.ndarray) and value.ndim == 0
    )


def per_task_values(
    param: str, value, names: list[str], default, check: Callable | None = None
) -> dict[str, object]:
    """Resolve a per-task parameter's value to ``{task: value}`` over ``names``.

    Raises a ValueError naming unknown tasks, or a sequence of the wrong length.
    """
    if value is None:
        out = dict.fromkeys(names, default)
    elif isinstance(value, Mapping):
        entries = {str(k): v for k, v in value.items()}
        fallback = getattr(value, "default", None)
        fallback = default if fallback is None else fallback
        unknown = [k for k in entries if k not in names]
        if unknown:
            raise ValueError(f"{param} names unknown tasks {unknown}; the tasks are {names}.")
        out = {n: entries.get(n, fallback) for n in names}
    elif is_scalar(value):
        out = dict.fromkeys(names, value)
    elif isinstance(value, Sequence | np.ndarray):
        if len(value) != len(names):
            raise ValueError(
                f"{param} has {len(value)} entries but there are {len(names)} tasks {names}."
            )
        out = dict(zip(names, value, strict=True))
    else:
        raise ValueError(f"{param} must be a dict by task name or a sequence, got {value!r}.")
    if check is not None:
        for name, v in out.items():
            check(name, v)
    return out


def set_per_task(current, entries: dict):
    """The new value of a per-task parameter after ``set_params(<param>__<task>=...)``."""
    if current is None:
        return PerTask(entries)
    if is_scalar(current):
        return PerTask(entries, default=current)
    if isinstance(current, Mapping):
        updated = PerTask(current, default=getattr(current, "default", None))
        updated.update(entries)
        return updated
    raise ValueError(
        f"Cannot set one task's entry when the parameter is a {type(current).__name__}; "
        "give it as a dict keyed by task name."
    )


def check_task_weight(name: str, w) -> None:
    if isinstance(w, bool) or not isinstance(w, numbers.Real) or not np.isfinite(w) or w < 0:
        raise ValueError(f"task_weights[{name!r}] must be a finite number >= 0, got {w!r}.")
    if w > np.finfo(np.float32).max:
        raise ValueError(f"task_weights[{name!r}] = {w!r} overflows float32; use a smaller one.")


def store_init_params(estimator, params: dict) -> None:
    """Set each ``__init__`` argument as the attribute of the same name, unchanged.

    Called as ``store_init_params(self, locals())`` first thing in ``__init__``:
    scikit-learn's contract (``__init__`` only stores its parameters) in one line.
    """
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)
