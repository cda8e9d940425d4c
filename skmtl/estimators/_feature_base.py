"""The base of the row-level estimators: numeric X (dense or sparse) or raw texts.

:class:`FeatureEstimatorBase` supplies the hooks of
:class:`~skmtl.base.BaseMultiTaskEstimator`: X is validated by scikit-learn's
``validate_data`` (or tokenized by ``encoder``), the shared layers are an MLP
(:class:`~skmtl.encoders.FeatureStack`) or a text encoder with dense layers on
top (:meth:`~skmtl.encoders.TextEncoder.build_stack`), and predictions come back
in the layout of the fitted Y.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import validate_data

from .._params import store_init_params
from ..base import BaseMultiTaskEstimator
from ..encoders import ACTIVATIONS, NORMALIZATIONS, EncodedInputs, FeatureInputs, FeatureStack
from ..engine import ShuffledBatches
from ..tasks import ROW_TASK_TYPES, assemble, resolve_tasks

__all__ = ["FeatureEstimatorBase"]


class FeatureEstimatorBase(BaseMultiTaskEstimator):
    """Shared MLP layers (or a text encoder) + one head per row-level task.

    Subclasses set ``_allowed_types`` (task types they accept) and
    ``_forced_type`` (a type every task gets unless ``tasks`` says otherwise).
    """

    _allowed_types: tuple[str, ...] = ROW_TASK_TYPES
    _forced_type: str | None = None

    def __init__(
        self,
        *,
        encoder=None,
        hidden_layer_sizes: Sequence[int] = (128,),
        activation: str = "relu",
        dropout: float = 0.0,
        normalization: str | None = None,
        head_hidden_layer_sizes: Sequence[int] = (),
        tasks: Mapping | None = None,
        task_weights: Mapping | Sequence | None = None,
        weighting=None,
        architecture=None,
        task_sampling=None,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 128,
        max_epochs: int = 100,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        weight_averaging: float = 0.0,
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
        record_gradients: bool = False,
        device: str = "cpu",
    ) -> None:
        store_init_params(self, locals())

    # ------------------------------------------------------------ hooks

    def _sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        return (sizes,) if isinstance(sizes, numbers.Integral) else tuple(sizes)

    def _check_params(self) -> None:
        sizes = self._sizes()
        if (not sizes and self.encoder is None) or any(
            isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes
        ):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes!r}.")
        if any(not isinstance(s, numbers.Integral) or s < 1 for s in self.head_hidden_layer_sizes):
            raise ValueError(
                f"head_hidden_layer_sizes must be positive integers, got "
                f"{self.head_hidden_layer_sizes!r}."
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}."
            )
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {NORMALIZATIONS}, got {self.normalization!r}."
            )
        if self.normalization == "batch" and self.batch_size < 2:
            raise ValueError(
                f"normalization='batch' needs batch_size >= 2 (batch normalisation cannot "
                f"train on one row), got batch_size={self.batch_size!r}."
            )
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if self.encoder is not None and not all(
            hasattr(self.encoder, m) for m in ("prepare", "batch", "build_stack")
        ):
            raise ValueError(
                "encoder must be None or a text encoder with prepare, batch and build_stack "
                f"methods (e.g. skmtl.encoders.TextEncoder()), got {self.encoder!r}."
            )

    def _prepare_inputs(self, X, *, fitting: bool):
        index = X.index if hasattr(X, "iloc") and hasattr(X, "index") else None
        if self.encoder is None:
            _reject_text(X)
            X = validate_data(
                self,
                X,
                reset=fitting,
                accept_sparse=("csr", "csc", "coo"),
                dtype=(np.float32, np.float64),
            )
            return FeatureInputs(X), {"index": index}, {}
        encoder = clone(self.encoder) if fitting else self.encoder_
        fitted = {"encoder_": encoder} if fitting else {}
        return EncodedInputs(encoder, encoder.prepare(X)), {"index": index}, fitted

    def _prediction_parts(self, X):
        """Raw texts chunk by chunk (streamed prediction); a matrix in one part."""
        if self.encoder is None or not hasattr(self.encoder_, "prepare_chunks"):
            yield from super()._prediction_parts(X)  # a matrix, or another kind of encoder
            return
        index = X.index if hasattr(X, "iloc") and hasattr(X, "index") else None
        for tokens in self.encoder_.prepare_chunks(X):
            yield EncodedInputs(self.encoder_, tokens), {"index": index}

    def _resolve_tasks(self, layout, columns, context, spec, existing=()):
        return resolve_tasks(
            layout,
            columns,
            spec,
            self._allowed_types,
            self._forced_type,
            type(self).__name__,
        )

    def _make_stack(self, fitted):
        if self.encoder is None:
            return FeatureStack(
                self.n_features_in_,
                self._sizes(),
                self.activation,
                self.dropout,
                self.normalization,
            )
        encoder = fitted.get("encoder_") or self.encoder_
        return encoder.build_stack(
            self._sizes(), self.activation, self.dropout, self.normalization, pooled=True
        )

    def _make_sampler(self, inputs):
        return ShuffledBatches(int(self.batch_size))

    def _assemble(self, tasks, decoded, context):
        return assemble(self.target_layout_, tasks, decoded, index=context.get("index"))

    def _takes_text(self) -> bool:
        return self.encoder is not None


def _reject_text(X) -> None:
    """A clear error for raw texts given to a model without a text encoder."""
    if hasattr(X, "nnz"):  # sparse
        return
    if isinstance(X, np.ndarray):
        if X.dtype.kind not in "OUS" or X.size == 0:
            return
        first = X.flat[0]
    elif hasattr(X, "iloc"):  # DataFrame
        if X.size == 0 or all(dtype.kind != "O" for dtype in X.dtypes):
            return
        first = X.iloc[0, 0]
    else:
        first = X
        for _ in range(2):  # a list of texts, or of rows
            if isinstance(first, (str, bytes)) or not hasattr(first, "__getitem__"):
                break
            try:
                first = first[0]
            except (IndexError, KeyError, TypeError):
                return
    if isinstance(first, (str, bytes)):
        raise ValueError(
            "X holds strings, but this model reads a numeric matrix: give it "
            "encoder=skmtl.encoders.TextEncoder() to train on raw texts, or put a "
            "vectorizer (e.g. TfidfVectorizer) before it in a Pipeline."
        )
