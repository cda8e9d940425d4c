"""The estimator at the end of a (nested) scikit-learn Pipeline."""

from __future__ import annotations

from typing import Any

__all__ = ["final_step"]


def final_step(estimator: Any) -> tuple[str, Any]:
    """``(parameter prefix, final estimator)``, going down nested Pipelines.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Anything with a ``steps`` list (a Pipeline) is followed to its last step.

    Returns
    -------
    prefix : str
        The ``set_params`` prefix of the final estimator (``""`` when
        ``estimator`` is not a Pipeline), e.g. ``"pipe__mtl__"``.
    final : estimator
        The last step.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.pipeline import Pipeline
    >>> from skmtl import MultiTaskClassifier
    >>> from skmtl.utils import final_step
    >>> pipe = Pipeline([("tfidf", TfidfVectorizer()), ("mtl", MultiTaskClassifier())])
    >>> final_step(pipe)
    ('mtl__', MultiTaskClassifier())
    """
    prefix = ""
    while isinstance(getattr(estimator, "steps", None), list) and estimator.steps:
        name, estimator = estimator.steps[-1]
        prefix += f"{name}__"
    return prefix, estimator
