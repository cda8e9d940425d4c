"""Cross-validation and model selection for multi-task targets.

:class:`MultiTaskStratifiedKFold` stratifies the folds over every task's labels
at once (iterative stratification), with missing labels and mixed label types
across tasks, where scikit-learn's ``cv=<int>`` fails or does not stratify.
:class:`TaskWeightSearchCV` searches task weights like ``GridSearchCV`` with one
fit per fold, on a model trained with
:class:`~skmtl.weighting.WeightConditioned`. :func:`pareto_front` traces such a
model's trade-off between the tasks (:class:`ParetoFrontDisplay` plots it).
"""

from ._pareto import ParetoFront, ParetoFrontDisplay, hypervolume, pareto_front, weight_grid
from ._split import MultiTaskStratifiedKFold
from ._weight_search import TaskWeightSearchCV

__all__ = [
    "MultiTaskStratifiedKFold",
    "ParetoFront",
    "ParetoFrontDisplay",
    "TaskWeightSearchCV",
    "hypervolume",
    "pareto_front",
    "weight_grid",
]
