"""MultiTaskRegressor: several continuous targets, one shared model."""

from __future__ import annotations

from sklearn.base import RegressorMixin

from ..base import BaseMultiTaskEstimator
from ._docs import PARAMS_DOC, partial_fit_doc
from ._feature_base import FeatureEstimatorBase

__all__ = ["MultiTaskRegressor"]


class MultiTaskRegressor(RegressorMixin, FeatureEstimatorBase):
    __doc__ = """Multi-task regressor: continuous tasks sharing one model.

    Every task is continuous (one column, or several grouped with
    ``tasks={"vad": {"type": "continuous", "columns": ["V", "A", "D"]}}``).
    Targets are standardised per task for training (squared error on the
    standardised scale, so tasks with large units do not dominate) and mapped
    back for prediction. ``score`` is the mean R^2 over tasks.

    Parameters
    ----------
{params}
    See Also
    --------
    MultiTaskClassifier : Classification tasks.
    MultiTaskEstimator : Any mix of task types.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 4))
    >>> Y = np.column_stack([X @ [1.0, 2.0, 0.0, 0.0], X @ [0.0, 1.0, -1.0, 0.5]])
    >>> Y[::5, 1] = np.nan  # a missing label masks that row for task "1" only
    >>> reg = MultiTaskRegressor(max_epochs=60, random_state=0).fit(X, Y)
    >>> reg.predict(X[:2]).shape
    (2, 2)
    >>> reg.score(X, Y) > 0.9
    True
    """.replace(
        "{params}",
        PARAMS_DOC["shared"].replace("{tasks}", PARAMS_DOC["tasks"]["regressor"])
        + PARAMS_DOC["training"]
        + PARAMS_DOC["attributes"].replace(
            "    classes_ : ndarray or list of ndarray\n"
            "        Labels of each task (an array when Y was 1-D).\n",
            "",
        ),
    )

    # The mixin's score would treat Y as one array; ours is per task and skips missing labels.
    score = BaseMultiTaskEstimator.score

    _allowed_types = ("continuous",)
    _forced_type = "continuous"

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        return self._partial_fit_call(X, y, classes, sample_weight)

    partial_fit.__doc__ = partial_fit_doc(
        "feature",
        """
        Examples
        --------
        >>> import numpy as np
        >>> from skmtl import MultiTaskRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(400, 4))
        >>> Y = np.column_stack([X @ [1.0, 2.0, 0.0, 0.0], 10 * X[:, 2] + 50])
        >>> reg = MultiTaskRegressor(hidden_layer_sizes=(32,), batch_size=20,
        ...                          learning_rate=0.01, random_state=0)
        >>> for epoch in range(5):
        ...     for rows in np.array_split(np.arange(400), 4):
        ...         reg = reg.partial_fit(X[rows], Y[rows])  # continuous: no classes
        >>> reg.tasks_["1"].mean.round(-1)  # the standardisation of the first chunk
        array([50.])
        >>> bool(reg.score(X, Y) > 0.9)
        True
        """,
    )
