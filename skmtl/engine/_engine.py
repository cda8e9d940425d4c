"""The one training loop under every skmtl estimator.

An estimator validates its inputs and targets, builds its network (an
architecture over its shared stack, plus a head per task) and hands both to an
:class:`Engine`. The engine runs epochs of batches: forward, each task's masked
loss (:meth:`Engine.get_loss`), the weighting strategy's backward pass, the
optimiser step (:meth:`Engine.train_step`), and calls its callbacks (early
stopping, weight averaging, gradient recording, progress) at fixed points.
Subclass and override ``train_step`` / ``get_loss`` to change one step, or pass
a :class:`~skmtl.engine.Callback` to add a concern, as in skorch.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..utils import user_stacklevel
from ..weighting import conditioned
from ._data import TaskTensors, TrainingData, to_device
from ._holdout import HeldOutBatches, split_holdout
from ._progress import prediction_bar
from ._protocols import Callback
from ._stats import EpochStats

__all__ = ["Engine"]

# Rows per inference batch: feature rows are cheap; texts (with lengths) are padded to
# the longest document of a batch, so they go 256 at a time, sorted by length.
_PREDICT_BATCH = 2048
_PREDICT_BATCH_TEXTS = 256


class Engine:
    """Train a multi-task network: the loop shared by every estimator.

    Parameters
    ----------
    network : nn.Module
        Returns ``{task: head output}``; has ``weighting`` (the strategy's
        trainable state or None), ``representation`` and ``shared_parameters()``.
    tasks : list of TaskType
        The tasks to train (their heads must be in ``network``); in order.
    weighting : WeightingStrategy
        The fitted strategy (its ``init`` already called).
    optimizer : torch.optim.Optimizer
    sampler : Sampler
        Orders each epoch's rows into batches.
    max_epochs : int
    device : torch.device
    callbacks : sequence of Callback
        Called in order at each hook.
    frozen : sequence of nn.Module
        Parts kept in eval mode while training (their dropout off, batch-norm
        statistics fixed), e.g. the old network in ``add_tasks``.
    min_batch_rows : int, default=1
        Batches with fewer rows are skipped (2 with batch normalisation, which
        cannot train on one row), except when the epoch has a single batch.
    task_sampler : TaskSampler or None, default=None
        Decides each epoch's (task, row) draws (:mod:`skmtl.sampling`); the
        ``sampler`` then cuts them into batches. None: the natural order, every
        row once with all its labels.

    Attributes
    ----------
    n_batches : int or None
        The number of batches of the current epoch, set by :meth:`run_epoch`
        before its first step (counting any skipped for ``min_batch_rows``).
    epoch_stats : EpochStats or None
        The current epoch's running statistics: each batch's per-task masked
        losses (as the weighting strategy combined them) are added before the
        callbacks' ``on_batch_end``, so ``epoch_stats.task_loss()`` there is
        each task's running loss, and at the end of the epoch the record's
        ``task_loss``.
    stop_training : bool
        A callback sets it to stop training after the current epoch.
    interrupted : bool
        Whether a KeyboardInterrupt stopped the last :meth:`fit`.
    """

    def __init__(
        self,
        network: nn.Module,
        tasks: list,
        *,
        weighting,
        optimizer: torch.optim.Optimizer,
        sampler,
        max_epochs: int,
        device: torch.device,
        callbacks: Sequence[Callback] = (),
        frozen: Sequence[nn.Module] = (),
        min_batch_rows: int = 1,
        task_sampler=None,
    ) -> None:
        self.network = network
        self.tasks = list(tasks)
        self.names = [t.name for t in self.tasks]
        self.weighting = weighting
        self.optimizer = optimizer
        self.sampler = sampler
        self.max_epochs = int(max_epochs)
        self.device = device
        self.callbacks = list(callbacks)
        self.frozen = list(frozen)
        self.min_batch_rows = int(min_batch_rows)
        self.task_sampler = task_sampler
        self.stop_training = False
        self.interrupted = False
        # Set by run_epoch for each batch: the batch's row count and, per task, the row
        # of each target element (for strategies that weight rows, see train_step).
        self.batch_rows: int | None = None
        self.owners: dict | None = None
        # Set by run_epoch for callbacks (progress): the epoch's number of batches, and its
        # running EpochStats, updated with each batch's losses (the per-task masked losses
        # the strategy combined) before on_batch_end; its final state is the record.
        self.n_batches: int | None = None
        self.epoch_stats: EpochStats | None = None
        # Batches of the rows the strategy holds out for itself (see holdout_share).
        self.held_out: HeldOutBatches | None = None

    # ------------------------------------------------------------ the loop

    def fit(self, data: TrainingData, history: list, rng: np.random.RandomState) -> list:
        """Train for up to ``max_epochs`` epochs on ``data``, appending to ``history``.

        Ctrl-C (KeyboardInterrupt) stops at the end of the current batch: the
        callbacks' ``on_fit_end`` still run (early stopping restores the best
        weights so far), a warning is issued and ``self.interrupted`` is set.
        """
        self.history, self.rng = history, rng
        data, held_out = split_holdout(data, self.weighting.holdout_share(), rng)
        self.held_out = None
        if held_out is not None:
            size = getattr(self.sampler, "batch_size", len(held_out))
            self.held_out = HeldOutBatches(held_out, self.names, size, self.device, rng)
        self.prepare(data)
        start = len(history)
        self.stop_training = False
        for cb in self.callbacks:
            cb.on_fit_begin(self)
        try:
            for epoch in range(start + 1, start + self.max_epochs + 1):
                tic = time.perf_counter()
                for cb in self.callbacks:
                    cb.on_epoch_begin(self, epoch)
                record = self.run_epoch(epoch)
                self._check_finite(record)
                for cb in self.callbacks:
                    cb.on_epoch_end(self, record)
                record["dur"] = time.perf_counter() - tic
                history.append(record)
                for cb in self.callbacks:
                    cb.on_record(self, record)
                if self.stop_training or self.interrupted:
                    break
        finally:
            for cb in self.callbacks:
                cb.on_fit_end(self)
            self.network.representation = None  # drop the last batch's graph
            self.network.eval()
        if self.interrupted:
            warnings.warn(
                f"Training interrupted (KeyboardInterrupt) after {len(history) - start} "
                "epoch(s); the model keeps the weights reached (the best ones with early "
                "stopping) and is usable.",
                RuntimeWarning,
                stacklevel=user_stacklevel(),
            )
        return history

    def _check_finite(self, record: dict) -> None:
        """Stop with a clear error when training diverged (never a model of NaN weights)."""
        bad = [t for t, v in record["task_loss"].items() if not np.isfinite(v)]
        if (
            np.isfinite(record["train_loss"])
            and not bad
            and all(bool(torch.isfinite(p).all()) for p in self.network.parameters())
        ):
            return
        raise ValueError(
            f"Training diverged in epoch {record['epoch']}: "
            + (f"the loss of tasks {bad} is not finite" if bad else "non-finite weights")
            + ". X, the targets, sample_weight or task_weights may hold very large values: "
            "scale them (e.g. StandardScaler on X), or lower learning_rate."
        )

    def prepare(self, data: TrainingData) -> None:
        """Put ``data``'s targets, weights and class weights on the device (for
        :meth:`get_loss`; ``fit`` calls it, diagnostics may too)."""
        self.data = data
        self.tensors = {
            t: TaskTensors.build(data.targets[t], data.row_weights[t], self.device)
            for t in self.names
        }
        self.class_weights = {
            t: None
            if data.class_weights.get(t) is None
            else torch.from_numpy(np.asarray(data.class_weights[t], np.float32)).to(self.device)
            for t in self.names
        }
        weights = data.task_weights if data.task_weights is not None else np.ones(len(self.names))
        self.task_weights = torch.from_numpy(np.asarray(weights, np.float32)).to(self.device)
        # Each task's pool for the task sampler: the rows with a label that trains.
        self.pools = [np.flatnonzero(self.tensors[t].labelled_rows()) for t in self.names]

    def epoch_order(self, epoch: int):
        """``(order, bounds, drawn)``: the epoch's rows, batch boundaries into them and,
        with a task sampler whose draws train their own task only, the task index each
        row was drawn for (else None)."""
        if self.task_sampler is None:
            order, bounds = self.sampler.epoch(self.data.inputs, self.rng)
            return order, bounds, None
        rows, drawn = self.task_sampler.draw(self.pools, epoch, self.max_epochs, self.rng)
        self.task_draws = np.bincount(drawn, minlength=len(self.names))
        if self.task_sampler.batches == "per_task":
            parts = [np.flatnonzero(drawn == t) for t in range(len(self.names))]
        else:
            parts = [np.arange(rows.size)]
        batches = []
        for part in parts:
            if part.size == 0:
                continue
            sub, bounds = self.sampler.epoch(self.data.inputs.take(rows[part]), self.rng)
            batches.extend(part[sub[a:b]] for a, b in zip(bounds[:-1], bounds[1:], strict=True))
        if self.task_sampler.batches == "per_task":
            batches = [batches[i] for i in self.rng.permutation(len(batches))]
        picks = np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
        bounds = np.zeros(len(batches) + 1, dtype=np.int64)
        np.cumsum([b.size for b in batches], out=bounds[1:])
        keep = drawn[picks] if self.task_sampler.labels == "drawn" else None
        return rows[picks], bounds, keep

    def run_epoch(self, epoch: int) -> dict:
        """One pass over the training rows; returns the epoch's history record."""
        self.network.train()
        for part in self.frozen:
            part.eval()
        order, bounds, drawn = self.epoch_order(epoch)
        X = self.data.inputs.take(order)
        tensors = {t: v.permute(order) for t, v in self.tensors.items()}
        if drawn is not None:  # a row drawn for task j trains task j only
            tensors = {t: v.keep_rows(drawn == j) for j, (t, v) in enumerate(tensors.items())}
        stats = self.epoch_stats = EpochStats(self.names, self.device)
        self.n_batches = len(bounds) - 1
        single = len(bounds) == 2
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            if b - a < self.min_batch_rows and not single:
                continue
            try:
                batch = to_device(X.batch(int(a), int(b)), self.device)
                targets = {t: v.rows(int(a), int(b)) for t, v in tensors.items()}
                # Which row of the batch each target element belongs to (per-row weights).
                self.owners = {t: v.owners(int(a), int(b)) for t, v in tensors.items()}
                self.batch_rows = int(b - a)
                losses, present, used = self.train_step(batch, targets)
                stats.add(losses, present, used)
                for cb in self.callbacks:  # a Ctrl-C in a callback stops here too
                    cb.on_batch_end(self)
            except KeyboardInterrupt:
                self.interrupted = True
                self.optimizer.zero_grad(set_to_none=True)
                break
        self.weighting.end_epoch(stats.task_loss())
        record = stats.record(epoch)
        # The rows drawn for each task (the natural order: each of its labelled rows once).
        draws = self.task_draws if self.task_sampler is not None else map(len, self.pools)
        record["task_draws"] = dict(zip(self.names, map(int, draws), strict=True))
        return record

    # ------------------------------------------------------------ hooks

    def train_step(self, batch, targets) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Forward, losses, the strategy's backward pass and the optimiser step.

        Returns ``(losses, present, used)``: each task's loss, whether it had a
        labelled element, and the weight the strategy gave it.
        """
        if self.held_out is not None:
            self.weighting.meta_step(self, batch, targets, *self.held_out.next())
        row_weights = self.weighting.begin_step(self.network, self.batch_rows)
        factors = None
        if row_weights is not None:
            if self.owners is None:
                raise RuntimeError(
                    f"{type(self.weighting).__name__} weights rows: call train_step through "
                    "run_epoch, or set engine.owners and engine.batch_rows for the batch."
                )
            targets, factors = self._reweight(targets, row_weights)
        out = self.network(batch)
        losses, present = self.get_loss(out, batch, targets)
        self.weighting.end_step(self.network)
        if factors is not None:  # each task's loss over the rows' plain weights
            losses = losses * factors
        self.optimizer.zero_grad(set_to_none=True)
        used = self.weighting.backward(
            losses, present, self.task_weights, self.network.weighting, self.network
        )
        self.optimizer.step()
        return losses, present, used if factors is None else used * factors.detach()

    def _reweight(self, targets, row_weights: torch.Tensor):
        """Targets whose element weights are scaled by their row's weight for the task
        (``row_weights``: ``(n_rows, n_tasks)``), and per task ``sum(w * r) / sum(w)``."""
        out, factors = {}, []
        for j, name in enumerate(self.names):
            target, weight = targets[name]
            scaled = weight * row_weights[self.owners[name], j].to(weight.dtype)
            total = weight.sum()
            factors.append(scaled.sum() / total.clamp(min=torch.finfo(total.dtype).tiny))
            out[name] = (target, scaled)
        return out, torch.stack(factors)

    def task_losses(self, batch, targets) -> tuple[torch.Tensor, torch.Tensor]:
        """The network's per-task losses and presence on a batch (one forward pass)."""
        return self.get_loss(self.network(batch), batch, targets)

    def get_loss(self, out, batch, targets) -> tuple[torch.Tensor, torch.Tensor]:
        """Each task's masked loss on the batch, and whether it had a labelled element."""
        mask = batch.get("mask") if isinstance(batch, dict) else None
        mask = None if mask is None else mask.to(torch.bool)
        losses, present = [], []
        for task in self.tasks:
            target, weight = targets[task.name]
            losses.append(
                task.loss(
                    out[task.name],
                    target,
                    weight,
                    class_weight=self.class_weights.get(task.name),
                    mask=mask,
                    head=self.network.head(task.name),
                )
            )
            present.append(weight.sum() > 0)
        return torch.stack(losses), torch.stack(present)

    # ------------------------------------------------------------ inference

    def predict(
        self, inputs, batch_size: int | None = None, condition=None, verbose: int = 0
    ) -> dict[str, np.ndarray]:
        """Each task's ``task.predict`` output for ``inputs``, in row order.

        Inputs with ``lengths`` (texts) are run in order of length, so batches
        hold sentences of similar length; the results come back in row order.
        ``condition``: the task weights a weight-conditioned network serves.
        ``verbose``: a bar over the batches, as in :func:`predict`.
        """
        return predict(
            self.network, self.tasks, inputs, self.device, batch_size, condition, verbose
        )


def predict(
    network,
    tasks,
    inputs,
    device,
    batch_size: int | None = None,
    condition=None,
    verbose: int = 0,
) -> dict[str, np.ndarray]:
    """Run ``network`` over ``inputs`` in eval mode; ``{task: task.predict(...)}``.

    ``condition``: for a network conditioned on task weights
    (:class:`~skmtl.weighting.WeightConditioned`), the weights to predict under.
    ``verbose``: the estimator's; a tqdm bar over the batches (on stderr, removed
    when done) at ``verbose >= 2`` when there are two or more, at ``verbose=1``
    only when there are more than :data:`~skmtl.engine._progress.LONG_PREDICTION_BATCHES`
    (20), see :func:`~skmtl.engine._progress.prediction_bar`.
    """
    with conditioned(network, condition):
        return _predict(network, tasks, inputs, device, batch_size, verbose)


def _predict(network, tasks, inputs, device, batch_size, verbose=0):
    n = len(inputs)
    lengths = getattr(inputs, "lengths", None)
    if batch_size is None:
        batch_size = _PREDICT_BATCH if lengths is None else _PREDICT_BATCH_TEXTS
    order = np.argsort(lengths, kind="stable") if lengths is not None else np.arange(n)
    X = inputs.take(order) if lengths is not None else inputs
    parts = {t.name: [] for t in tasks}
    network.eval()
    starts = range(0, n, batch_size)
    with torch.inference_mode(), prediction_bar(len(starts), verbose) as bar:
        for a in starts:
            batch = to_device(X.batch(a, min(a + batch_size, n)), device)
            out = network(batch)
            mask = batch.get("mask") if isinstance(batch, dict) else None
            mask = None if mask is None else mask.to(torch.bool)
            for t in tasks:
                parts[t.name].append(t.predict(out[t.name], mask=mask, head=network.head(t.name)))
            bar.update()
    result = {}
    for t in tasks:
        values = np.concatenate(parts[t.name]) if parts[t.name] else np.zeros((0, t.n_outputs))
        result[t.name] = _unsort(values, order, t.level, lengths)
    return result


def _unsort(values: np.ndarray, order: np.ndarray, level: str, lengths) -> np.ndarray:
    """Put predictions made in ``order`` back in row order."""
    if lengths is None or np.all(order[:-1] <= order[1:]):
        return values
    if level != "token":  # one prediction (row of values) per row
        out = np.empty_like(values)
        out[order] = values
        return out
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    from ..tasks import token_index

    out = np.empty_like(values)
    out[token_index(offsets, order)] = values
    return out
