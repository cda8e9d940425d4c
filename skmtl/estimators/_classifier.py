"""MultiTaskClassifier: several classification tasks, one shared model."""

from __future__ import annotations

from sklearn.base import ClassifierMixin

from ..base import BaseMultiTaskEstimator
from ._docs import PARAMS_DOC, partial_fit_doc
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

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        return self._partial_fit_call(X, y, classes, sample_weight)

    partial_fit.__doc__ = partial_fit_doc(
        "feature",
        """
        Examples
        --------
        >>> import numpy as np
        >>> from skmtl import MultiTaskClassifier
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(300, 5))
        >>> Y = np.column_stack([X[:, 0] > 0, (X[:, 1] > 0).astype(int) + (X[:, 2] > 0)])
        >>> clf = MultiTaskClassifier(hidden_layer_sizes=(16,), batch_size=20,
        ...                           learning_rate=0.01, random_state=0)
        >>> for epoch in range(5):  # 5 passes over the data, in chunks of 100 rows
        ...     for rows in np.array_split(np.arange(300), 3):
        ...         clf = clf.partial_fit(X[rows], Y[rows], classes=[[0, 1], [0, 1, 2]])
        >>> len(clf.history_), clf.classes_[1].tolist()
        (15, [0, 1, 2])
        >>> bool(clf.score(X, Y) > 0.9)
        True
        """,
    )
