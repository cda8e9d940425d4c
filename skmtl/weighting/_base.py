"""The small base class of loss-weighting strategies.

A strategy is a parameter object (grid-searchable as ``weighting__<param>``).
The estimator never trains the object the user passed: ``fit`` clones it and
calls :meth:`WeightingStrategy.init` on the clone. Trainable state goes in the
``nn.Module`` that ``init`` returns; the estimator registers it on its network
so it is optimised, moved between devices and pickled with the model.
"""

from __future__ import annotations

import torch
from sklearn.base import BaseEstimator
from torch import nn

__all__ = ["WeightingStrategy", "release_representation", "trainable_shared"]


def trainable_shared(network: nn.Module) -> list[nn.Parameter]:
    """The network's shared parameters that are being trained (``requires_grad``).

    ``network.shared_parameters()`` lists every parameter that is not a task
    head; the frozen ones (an old trunk while :meth:`add_tasks` trains new
    heads) are left out.
    """
    return [p for p in network.shared_parameters() if p.requires_grad]


def release_representation(network: nn.Module) -> None:
    """Drop the network's stored ``representation`` (and with it the batch's graph).

    Networks keep the shared trunk's output of their last training-mode
    forward in ``network.representation`` for the strategies that work on
    it (``on="representation"``); every strategy clears it after its
    backward pass so no activation graph outlives the step.
    """
    if getattr(network, "representation", None) is not None:
        network.representation = None


class WeightingStrategy(BaseEstimator):
    """Combine per-task losses into the loss that is back-propagated.

    Subclasses override :meth:`combine` (loss-based methods) or
    :meth:`backward` (gradient-based methods, which need the per-task
    gradients of the shared parameters).

    A strategy that conditions the network on the task weights
    (:class:`~skmtl.weighting.WeightConditioned`) sets ``conditions_network``
    and overrides the conditioning hooks: :meth:`condition_stack` (the
    estimator builds its shared layers through the returned stack),
    :meth:`begin_step` / :meth:`end_step` (called by the engine around each
    training forward; ``begin_step`` may return per-row task weights) and
    :meth:`condition_for` (the condition a prediction is made under).
    """

    #: Whether the fitted network's outputs depend on the task weights asked for.
    conditions_network = False

    def init(self, task_names: list[str]) -> nn.Module | None:
        """Reset for a new fit over these tasks; return trainable state or None."""
        self.task_names_ = list(task_names)
        return None

    def combine(
        self,
        losses: torch.Tensor,
        present: torch.Tensor,
        task_weights: torch.Tensor,
        state: nn.Module | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(total loss, effective weight of each task)``.

        ``losses`` (n_tasks,) are the batch's mean task losses, 0 for a task
        with no labelled row (``present`` False); ``task_weights`` are the
        user's static weights.
        """
        raise NotImplementedError

    def backward(
        self,
        losses: torch.Tensor,
        present: torch.Tensor,
        task_weights: torch.Tensor,
        state: nn.Module | None,
        network: nn.Module,
    ) -> torch.Tensor:
        """Back-propagate; return the weights used (detached)."""
        total, weights = self.combine(losses, present, task_weights, state)
        total.backward()
        release_representation(network)
        return weights.detach()

    def end_epoch(self, epoch_task_losses) -> None:
        """Hook for strategies that adapt between epochs (default: nothing)."""

    # ------------------------------------------------------------ held-out rows

    def holdout_share(self) -> float:
        """Share of the training rows the strategy holds out for its own objective.

        A strategy that learns its weights on data the network does not train
        on (Auto-Lambda's bilevel step) returns a share in (0, 1): the engine
        then sets that share of the training rows aside (at random, once per
        fit) and calls :meth:`meta_step` before every training step with a
        batch of them. Default: 0 (every row trains the network).
        """
        return 0.0

    def meta_step(self, engine, batch, targets, meta_batch, meta_targets) -> None:
        """Called by the engine before each training step when :meth:`holdout_share`
        is positive, with the step's training batch and a batch of held-out rows.

        ``engine.task_losses(batch, targets)`` gives the network's per-task
        losses and presence on a batch; ``engine.network``, ``engine.optimizer``
        and ``engine.task_weights`` are available (default: nothing).
        """

    # ------------------------------------------------------------ conditioning

    def condition_stack(self, stack, state):
        """The shared stack the estimator builds its network from (default: ``stack``)."""
        return stack

    def begin_step(self, network, n_rows: int):
        """Called by the engine before each training forward of a batch of ``n_rows``
        rows; may return per-row task weights ``(n_rows, n_tasks)`` that scale each
        row's loss for each task (default: None, no per-row weights)."""
        return None

    def end_step(self, network) -> None:
        """Called by the engine after each training forward (default: nothing)."""

    def condition_for(self, task_weights):
        """The condition to predict under for these task weights (default: None)."""
        return None
