"""Feature extraction from raw text (spaCy-based featurizers)."""

from ._spacy import SpacyFeaturizer

__all__ = ["SpacyFeaturizer"]
