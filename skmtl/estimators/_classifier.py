"""MultiTaskClassifier: several classification tasks, one shared model."""

from __future__ import annotations

from sklearn.base import ClassifierMixin

from ..base import BaseMultiTaskEstimator
from ._docs import PARAMS_DOC
from ._mixins import ClassificationBase

__all__ = ["MultiTaskClassifier"]


class MultiTaskClassifier(ClassifierMixin, ClassificationBase):
    __doc__ = """Multi-task classifier: binary, multiclass and multilabel tasks in one model.

    A shared MLP trunk (hard parameter sharing) feeds one head per task; the
    task losses are masked where labels are missing, scaled by
    ``task_weights`` and combined by the ``weighting`` strategy.

    Parameters
    ----------
{params}
    See Also
    --------
    MultiTaskRegressor : Continuous tasks.
    MultiTaskEstimator : Any mix of task types.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5))
    >>> Y = np.column_stack([X[:, 0] > 0, (X[:, 1] > 0).astype(int) + (X[:, 2] > 0)])
    >>> clf = MultiTaskClassifier(max_epochs=30, random_state=0).fit(X, Y)
    >>> clf.predict(X[:3]).shape
    (3, 2)
    >>> [t.type for t in clf.tasks_.values()]
    ['binary', 'multiclass']
    >>> round(clf.score(X, Y), 2) > 0.8
    True
    """.replace(
        "{params}",
        PARAMS_DOC["shared"].replace("{tasks}", PARAMS_DOC["tasks"]["classifier"])
        + PARAMS_DOC["classification"]
        + PARAMS_DOC["training"]
        + PARAMS_DOC["attributes"],
    )

    # The mixin's score would treat Y as one array; ours is per task and skips missing labels.
    score = BaseMultiTaskEstimator.score

    _allowed_types = ("binary", "multiclass", "multilabel")
