"""One printed line per epoch (``verbose > 0``)."""

from __future__ import annotations

from ._protocols import Callback

__all__ = ["PrintProgress"]


class PrintProgress(Callback):
    """Print the epoch, the training loss, each task's loss and the validation score."""

    def on_record(self, engine, record: dict) -> None:
        parts = [f"epoch {record['epoch']:4d}", f"train_loss {record['train_loss']:.4f}"]
        parts += [f"{t} {v:.4f}" for t, v in record["task_loss"].items()]
        if "valid_score" in record:
            parts.append(f"valid_score {record['valid_score']:.4f}")
        parts.append(f"{record['dur']:.2f}s")
        print(" | ".join(parts), flush=True)
