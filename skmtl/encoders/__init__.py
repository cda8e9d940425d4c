"""Shared encoders (trunks) that turn an input batch into a representation.

``MLPTrunk`` reads numeric features (dense or sparse); :class:`TextEncoder`
is a spec object for raw text (hashed token embeddings and a CNN, BiLSTM or
Transformer), passed to an estimator as ``encoder=`` and trained end to end.
"""

from ._layers import SparseAwareLinear, SparseRows
from ._mlp import EncoderTrunk, MLPTrunk
from ._text import ARCHITECTURES, POOLINGS, TextEncoder, TextEncoderModule
from ._tokenize import TokenizedTexts

__all__ = [
    "ARCHITECTURES",
    "POOLINGS",
    "EncoderTrunk",
    "MLPTrunk",
    "SparseAwareLinear",
    "SparseRows",
    "TextEncoder",
    "TextEncoderModule",
    "TokenizedTexts",
]
