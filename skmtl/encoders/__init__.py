"""Shared encoders (trunks) that turn an input batch into a representation.

``MLPTrunk`` reads numeric features (dense or sparse); :class:`TextEncoder`
is a spec object for raw text (hashed token embeddings and a CNN, BiLSTM or
Transformer), passed to an estimator as ``encoder=`` and trained end to end;
:class:`PretrainedEncoder` is one over a pretrained transformer's contextual
word vectors (frozen, or its top layers fine-tuned).
:class:`FeatureStack` and :class:`TextStack` describe the same layers as a stem
and blocks for a sharing architecture (:mod:`skmtl.architectures`).
"""

from ._attention import FeedForward, MultiHeadAttention, PreNormEncoderLayer
from ._inputs import EncodedInputs, FeatureInputs
from ._layers import SparseAwareLinear, SparseRows, prepare_features
from ._mlp import ACTIVATIONS, NORMALIZATIONS, EncoderTrunk, MLPTrunk, make_activation
from ._pretrained import PretrainedEncoder, PretrainedInputs, PretrainedStack, param_groups
from ._protocol import Encoder
from ._stacks import FeatureStack, TextStack
from ._subwords import SubwordInputs, SubwordStack, SubwordTokenizer
from ._text import ARCHITECTURES, POOLINGS, TextEncoder, TextEncoderModule, pool_tokens
from ._tokenize import (
    TokenizedTexts,
    check_texts,
    check_tokens,
    full_token_counts,
    tokenize_words,
)

__all__ = [
    "ACTIVATIONS",
    "ARCHITECTURES",
    "NORMALIZATIONS",
    "POOLINGS",
    "EncodedInputs",
    "Encoder",
    "EncoderTrunk",
    "FeatureInputs",
    "FeatureStack",
    "FeedForward",
    "MultiHeadAttention",
    "PreNormEncoderLayer",
    "PretrainedEncoder",
    "PretrainedInputs",
    "PretrainedStack",
    "MLPTrunk",
    "SparseAwareLinear",
    "SparseRows",
    "SubwordInputs",
    "SubwordStack",
    "SubwordTokenizer",
    "TextEncoder",
    "TextEncoderModule",
    "TextStack",
    "TokenizedTexts",
    "check_texts",
    "check_tokens",
    "full_token_counts",
    "make_activation",
    "param_groups",
    "pool_tokens",
    "prepare_features",
    "tokenize_words",
]
