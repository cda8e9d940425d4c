"""Helpers shared by the benchmark scripts.

The scripts run as ``python benchmarks/<script>.py``, so this folder is on
``sys.path`` and they import these as ``from _common import machine_info``.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["machine_info"]


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # not Linux
        pass
    return None


def machine_info(*packages: str, **extra) -> dict:
    """The machine and software a result was measured on.

    Always: platform, CPU count / affinity / model, Python, numpy, torch (and
    its thread count), scikit-learn and skmtl; plus the version of each
    distribution named in ``packages`` and the ``extra`` items as given.
    """
    import numpy as np
    import sklearn
    import torch

    import skmtl

    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_num_threads": torch.get_num_threads(),
        "torch_num_interop_threads": torch.get_num_interop_threads(),
        "sklearn": sklearn.__version__,
        "skmtl": skmtl.__version__,
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpu_affinity"] = len(os.sched_getaffinity(0))
    for name in packages:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = None
    info.update(extra)
    return info
