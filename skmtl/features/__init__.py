"""Feature extraction from raw text (spaCy-based featurizers)."""

from ._sentence import SentenceEmbedder
from ._spacy import SpacyFeaturizer

__all__ = ["SpacyFeaturizer"]
__all__ += ["SentenceEmbedder"]
