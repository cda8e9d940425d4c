"""The shared trunk of the feature-based estimators: an MLP over dense or sparse X."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ._layers import SparseAwareLinear

__all__ = ["EncoderTrunk", "MLPTrunk", "make_activation", "ACTIVATIONS", "NORMALIZATIONS"]

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "identity": nn.Identity}
NORMALIZATIONS = (None, "layer", "batch")


def make_activation(name: str) -> nn.Module:
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}."
        ) from None


def _block(layer: nn.Module, width: int, activation: str, dropout: float, normalization):
    parts = [layer]
    if normalization == "layer":
        parts.append(nn.LayerNorm(width))
    elif normalization == "batch":
        parts.append(nn.BatchNorm1d(width))
    parts.append(make_activation(activation))
    if dropout > 0:
        parts.append(nn.Dropout(dropout))
    return parts


class MLPTrunk(nn.Module):
    """Hard-shared layers: sparse-aware first layer, then dense layers.

    Each layer is Linear -> [LayerNorm | BatchNorm] -> activation -> Dropout.
    """

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: Sequence[int],
        activation: str = "relu",
        dropout: float = 0.0,
        normalization: str | None = None,
    ) -> None:
        super().__init__()
        sizes = list(hidden_layer_sizes)
        if not sizes:
            raise ValueError("hidden_layer_sizes must name at least one shared layer.")
        layers = _block(
            SparseAwareLinear(n_features, sizes[0]), sizes[0], activation, dropout, normalization
        )
        for width_in, width in zip(sizes[:-1], sizes[1:], strict=False):
            layers += _block(nn.Linear(width_in, width), width, activation, dropout, normalization)
        self.layers = nn.Sequential(*layers)
        self.out_features = sizes[-1]

    def forward(self, x):
        return self.layers(x)


class EncoderTrunk(nn.Module):
    """A text encoder's pooled output, then optional shared dense layers."""

    def __init__(
        self,
        encoder: nn.Module,
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
        normalization: str | None = None,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        sizes = list(hidden_layer_sizes)
        layers: list[nn.Module] = []
        width = encoder.out_features
        for size in sizes:
            layers += _block(nn.Linear(width, size), size, activation, dropout, normalization)
            width = size
        self.layers = nn.Sequential(*layers)
        self.out_features = width

    def forward(self, batch):
        return self.layers(self.encoder(batch))
