"""MultiTaskEstimator: any mix of task types in one model."""

from __future__ import annotations

from ._docs import PARAMS_DOC, partial_fit_doc
from ._mixins import ClassificationBase

__all__ = ["MultiTaskEstimator"]


class MultiTaskEstimator(ClassificationBase):
    __doc__ = """Multi-task model for any mix of task types in one model.

    Binary, multiclass, multilabel and continuous tasks share one trunk; each
    gets the head and loss of its type. Types are inferred per task with
    :func:`sklearn.utils.multiclass.type_of_target` (a column of label lists
    is multilabel, a float column is continuous) and can be set with
    ``tasks``. ``predict_proba`` exists only when every task is a
    classification task; ``score`` is the mean of each task's default
    metric (accuracy, multilabel macro-F1, R^2).

    Parameters
    ----------
{params}
    See Also
    --------
    MultiTaskClassifier : Classification tasks only.
    MultiTaskRegressor : Continuous tasks only.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skmtl import MultiTaskEstimator
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 4))
    >>> Y = pd.DataFrame({
    ...     "sentiment": np.where(X[:, 0] > 0, "pos", "neg"),
    ...     "topics": [tuple(t for t, on in zip("ab", row) if on) for row in X[:, 1:3] > 0],
    ...     "intensity": X[:, 3] * 2.0,
    ... })
    >>> Y.loc[::3, "intensity"] = np.nan  # labels may be missing per task
    >>> model = MultiTaskEstimator(max_epochs=40, random_state=0).fit(X, Y)
    >>> {name: t.type for name, t in model.tasks_.items()}
    {'sentiment': 'binary', 'topics': 'multilabel', 'intensity': 'continuous'}
    >>> list(model.predict(X[:2]).columns)
    ['sentiment', 'topics', 'intensity']
    """.replace(
        "{params}",
        PARAMS_DOC["shared"].replace("{tasks}", PARAMS_DOC["tasks"]["estimator"])
        + PARAMS_DOC["classification"]
        + PARAMS_DOC["training"]
        + PARAMS_DOC["attributes"],
    )

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        return self._partial_fit_call(X, y, classes, sample_weight)

    partial_fit.__doc__ = partial_fit_doc(
        "feature",
        """
        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from skmtl import MultiTaskEstimator
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(300, 4))
        >>> Y = pd.DataFrame({
        ...     "sentiment": np.where(X[:, 0] > 0, "pos", "neg"),
        ...     "topics": [tuple(t for t, on in zip("ab", row) if on) for row in X[:, 1:3] > 0],
        ...     "intensity": X[:, 3] * 2.0,
        ... })
        >>> classes = {"sentiment": ["neg", "pos"], "topics": ["a", "b"]}
        >>> model = MultiTaskEstimator(hidden_layer_sizes=(16,), batch_size=20, random_state=0)
        >>> for start in range(0, 300, 100):
        ...     chunk = slice(start, start + 100)
        ...     model = model.partial_fit(X[chunk], Y[chunk], classes=classes)
        >>> {name: t.type for name, t in model.tasks_.items()}
        {'sentiment': 'binary', 'topics': 'multilabel', 'intensity': 'continuous'}
        >>> Y.loc[0, "sentiment"] = "neutral"  # a label not declared on the first call
        >>> model.partial_fit(X[:100], Y[:100])
        Traceback (most recent call last):
        ...
        ValueError: Task 'sentiment', row 0: label 'neutral' is not one of the classes ...
        """,
    )
