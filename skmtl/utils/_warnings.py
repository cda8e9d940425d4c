"""Warnings that point at the user's line, however deep inside skmtl they are issued."""

from __future__ import annotations

import os
import sys

__all__ = ["user_stacklevel"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` called by the caller of this function
    that names the first frame outside skmtl (and outside scikit-learn's wrappers)."""
    frame, level = sys._getframe(1), 1
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not (path.startswith(_PACKAGE) or f"{os.sep}sklearn{os.sep}" in path):
            return level
        frame, level = frame.f_back, level + 1
    return level
