"""Small helpers shared across skmtl."""

from ._missing import is_missing, missing_mask

__all__ = ["is_missing", "missing_mask"]
