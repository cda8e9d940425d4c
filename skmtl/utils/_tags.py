"""Tags of a meta-estimator taken from the estimator it wraps."""

from __future__ import annotations

from copy import deepcopy

from sklearn.utils import get_tags

__all__ = ["delegate_tags"]


def delegate_tags(tags, estimator):
    """``tags`` with the estimator type, input, target and classifier / regressor tags of
    ``estimator`` (what scikit-learn's meta-estimators, such as ``GridSearchCV``, delegate).
    """
    sub = get_tags(estimator)
    tags.estimator_type = sub.estimator_type
    tags.classifier_tags = deepcopy(sub.classifier_tags)
    tags.regressor_tags = deepcopy(sub.regressor_tags)
    for name in ("pairwise", "sparse", "string", "two_d_array", "allow_nan"):
        setattr(tags.input_tags, name, getattr(sub.input_tags, name))
    tags.target_tags = deepcopy(sub.target_tags)
    tags.array_api_support = sub.array_api_support
    return tags
