"""Shared helpers for the dataset loaders."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

SPLITS = ("train", "dev", "test")


def check_split(split: str) -> str:
    """Return ``split`` if it is one of ``SPLITS``, else raise a ValueError."""
    if not isinstance(split, str) or split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}.")
    return split


def sample_dir(name: str) -> Path:
    """Directory of the sample shipped inside the package, e.g. ``data/goemotions``."""
    return Path(str(resources.files("skmtl.datasets").joinpath("data", name)))


def resolve_dir(path: str | os.PathLike | None, name: str, expected: list[str]) -> Path:
    """Resolve a data directory and check that all ``expected`` files exist in it.

    ``path=None`` selects the sample shipped with the package.
    """
    root = sample_dir(name) if path is None else Path(path).expanduser()
    missing = [f for f in expected if not (root / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{name} data not found in {str(root)!r}: missing {missing}. "
            f"The directory must contain the upstream files {expected}."
        )
    return root
