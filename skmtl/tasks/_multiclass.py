"""Multiclass classification: one of three or more labels per cell."""

from __future__ import annotations

from typing import ClassVar

from ._categorical import CategoricalTask

__all__ = ["MulticlassTask"]


class MulticlassTask(CategoricalTask):
    """A task with three or more classes: a softmax head, cross-entropy loss.

    Build it with :meth:`from_column`, which returns a :class:`BinaryTask`
    when the column holds only two classes.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.tasks import MulticlassTask
    >>> task = MulticlassTask.from_column("topic", ["a", "c", np.nan, "b"])
    >>> task.type, task.classes.tolist()
    ('multiclass', ['a', 'b', 'c'])
    >>> task.decode(np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]])).tolist()
    ['b', 'a']
    """

    type: ClassVar[str] = "multiclass"
