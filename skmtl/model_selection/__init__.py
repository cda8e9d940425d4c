"""Cross-validation for multi-task targets.

:class:`MultiTaskStratifiedKFold` stratifies the folds over every task's labels
at once (iterative stratification), with missing labels and mixed label types
across tasks, where scikit-learn's ``cv=<int>`` fails or does not stratify.
"""

from ._split import MultiTaskStratifiedKFold

__all__ = ["MultiTaskStratifiedKFold"]
