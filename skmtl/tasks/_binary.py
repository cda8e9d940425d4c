"""Binary classification: one of two labels per cell."""

from __future__ import annotations

from typing import ClassVar

from ._categorical import CategoricalTask

__all__ = ["BinaryTask"]


class BinaryTask(CategoricalTask):
    """A two-class task: a softmax head with 2 outputs, cross-entropy loss.

    Build it with :meth:`from_column`, which returns a :class:`MulticlassTask`
    when the column holds more than two classes.

    Examples
    --------
    >>> from skmtl.tasks import BinaryTask
    >>> task = BinaryTask.from_column("spam", ["yes", None, "no", "yes"])
    >>> task
    BinaryTask(name='spam', columns=['spam'], classes=['no', 'yes'], n_outputs=2)
    >>> enc = task.encode(["yes", None, "no", "yes"])
    >>> enc.target.tolist(), enc.labelled.tolist()
    ([1, -1, 0, 1], [True, False, True, True])
    """

    type: ClassVar[str] = "binary"
