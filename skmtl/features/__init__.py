"""Feature extraction from raw text (spaCy-based featurizers)."""

from ._sentence import SentenceEmbedder, load_sentence_transformer, resolve_model_dir
from ._spacy import SpacyFeaturizer

__all__ = ["SpacyFeaturizer"]
__all__ += ["SentenceEmbedder", "load_sentence_transformer", "resolve_model_dir"]
