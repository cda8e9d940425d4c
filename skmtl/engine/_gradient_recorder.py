"""Per-epoch gradient diagnostics: each task's gradient norm and the pairwise cosines."""

from __future__ import annotations

import torch

from ._data import to_device
from ._protocols import Callback

__all__ = ["GradientRecorder", "probe_gradients"]


class GradientRecorder(Callback):
    """Add ``grad_norm`` and ``grad_cosine`` to every epoch's record.

    After the epoch's updates, each task's loss on a fixed probe batch (the
    first ``n_rows`` training rows) is differentiated with respect to the
    shared parameters in eval mode, with ``torch.autograd.grad``: no ``.grad``
    is touched and no random number drawn, so training is unchanged.
    """

    def __init__(self, n_rows: int) -> None:
        self.n_rows = int(n_rows)

    def on_epoch_end(self, engine, record: dict) -> None:
        record.update(probe_gradients(engine, self.n_rows))


def _dense(grad, param) -> torch.Tensor:
    if grad is None:
        return torch.zeros_like(param)
    return grad.to_dense() if grad.is_sparse else grad


def _task_gradients(engine, m: int, shared) -> dict[str, torch.Tensor]:
    batch = to_device(engine.data.inputs.batch(0, m), engine.device)
    targets = {t: v.rows(0, m) for t, v in engine.tensors.items()}
    losses, present = engine.get_loss(engine.network(batch), batch, targets)
    grads = {}
    for i, name in enumerate(engine.names):
        if not bool(present[i]):
            continue
        g = torch.autograd.grad(losses[i], shared, retain_graph=True, allow_unused=True)
        grads[name] = torch.cat(
            [_dense(gi, p).reshape(-1) for gi, p in zip(g, shared, strict=True)]
        ).double()
    return grads


def probe_gradients(engine, n_rows: int) -> dict[str, dict]:
    """``{"grad_norm": {task: norm}, "grad_cosine": {"a|b": cosine}}`` (NaN when unknown)."""
    network, names = engine.network, engine.names
    m = min(n_rows, len(engine.data.inputs))
    nan = float("nan")
    result = {
        "grad_norm": dict.fromkeys(names, nan),
        "grad_cosine": {f"{a}|{b}": nan for i, a in enumerate(names) for b in names[i + 1 :]},
    }
    shared = list(network.shared_parameters())
    if m < 1 or not shared:
        return result
    modes = {mod: mod.training for mod in network.modules()}
    flags = [p.requires_grad for p in shared]
    try:
        network.eval()
        for p in shared:  # a frozen trunk (add_tasks) still gets diagnosed
            p.requires_grad_(True)
        with torch.enable_grad():
            grads = _task_gradients(engine, m, shared)
    finally:
        for p, flag in zip(shared, flags, strict=True):
            p.requires_grad_(flag)
        for mod, mode in modes.items():
            mod.training = mode
    norms = {name: g.norm() for name, g in grads.items()}
    for name in grads:
        result["grad_norm"][name] = float(norms[name])
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if a in grads and b in grads and norms[a] > 0 and norms[b] > 0:
                cosine = grads[a] @ grads[b] / (norms[a] * norms[b])
                result["grad_cosine"][f"{a}|{b}"] = float(cosine.clamp(-1.0, 1.0))
    return result
