"""Sharing architectures: how the tasks share the layers of the estimator's stack.

Pass one as ``architecture=`` to an estimator; its parameters are searchable
as ``architecture__<param>`` (``architecture__n_experts``).

================================  ==============================================
:class:`HardSharing` (default)    every task reads the top of one shared stack
                                  (Caruana, 1997)
:class:`Hierarchical`             each task reads its own layer of the stack
                                  (Søgaard and Goldberg, 2016)
:class:`CrossStitch`              one column per task, mixed after every layer
                                  (Misra et al., 2016)
:class:`MMoE`                     experts mixed by a softmax gate per task
                                  (Ma et al., 2018)
:class:`CGC`                      shared and per-task experts, a gate per task
                                  (Tang et al., 2020)
:class:`PLE`                      CGC stacked in levels with shared gates
                                  (Tang et al., 2020)
:class:`DSelectK`                 experts mixed by a k-sparse differentiable
                                  gate per task (Hazimeh et al., 2021)
================================  ==============================================

The protocol
------------
An estimator describes its layers as a :class:`SharedStack`: a shared *stem*
(``stem(batch)``: a text encoder's embeddings, or nothing for numeric
features), ``n_blocks`` *blocks* of which it builds fresh copies on demand
(``block(h, batch)``: the hidden layers, a text encoder's contextual layers)
and *gates* (``gate(h_source, batch)``: logits per row ``(B, n)`` or per token
``(B, T, n)``). An :class:`Architecture` is a parameter object whose
``build(stack, task_names)`` returns an :class:`ArchitectureModule`:

- ``forward(batch) -> {task: representation}``, at the level (row or token)
  of the stack's output; ``out_features`` is ``{task: width}``;
- ``add_tasks(names) -> [new submodules]`` extends it to new tasks without
  changing the old tasks' outputs: the old network can stay frozen while only
  the returned modules train (transfer learning);
- ``shared_parameters()`` are the parameters the gradient strategies with
  ``on="parameters"`` aggregate over (every parameter of the module);
- ``representation``, after a training-mode forward pass with gradients, is a
  list of tensors that *cut* the graph between those parameters and the task
  outputs (every path from a shared parameter to a task output goes through
  exactly one of them, and none depends on another), which the strategies with
  ``on="representation"`` aggregate over; parameters above the cut (such as
  :class:`Hierarchical`'s upper layers) get the plain gradient.

Examples
--------
>>> from sklearn.base import clone
>>> from skmtl.architectures import MMoE
>>> clone(MMoE(n_experts=2)).set_params(n_experts=3)
MMoE(n_experts=3)
"""

from ._base import Architecture, ArchitectureModule, SharedStack
from ._cgc import CGC
from ._cross_stitch import CrossStitch
from ._dselect_k import DSelectK
from ._hard import HardSharing
from ._hierarchical import Hierarchical
from ._mmoe import MMoE
from ._ple import PLE

__all__ = [
    "Architecture",
    "ArchitectureModule",
    "CGC",
    "CrossStitch",
    "DSelectK",
    "HardSharing",
    "Hierarchical",
    "MMoE",
    "PLE",
    "SharedStack",
]
