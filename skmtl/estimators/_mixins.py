"""Methods shared by the estimators that have classification tasks."""

from __future__ import annotations

from sklearn.utils import ClassifierTags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._params import store_init_params
from ._feature_base import FeatureEstimatorBase


def _all_tasks_classify(estimator) -> bool:
    check_is_fitted(estimator, "module_")
    if any(t.type == "continuous" for t in estimator.tasks_.values()):
        raise AttributeError(
            "predict_proba is only available when every task is a classification task; "
            "this model has continuous tasks."
        )
    return True


class ClassificationBase(FeatureEstimatorBase):
    """Adds ``threshold``, ``class_weight``, ``predict_proba`` and ``classes_``.

    ``predict_proba`` and ``classes_`` follow
    :class:`~sklearn.multioutput.MultiOutputClassifier`.
    """

    def __init__(
        self,
        *,
        encoder=None,
        hidden_layer_sizes=(128,),
        activation="relu",
        dropout=0.0,
        normalization=None,
        head_hidden_layer_sizes=(),
        tasks=None,
        task_weights=None,
        weighting=None,
        architecture=None,
        task_sampling=None,
        threshold=0.5,
        min_labels=0,
        class_weight=None,
        learning_rate=1e-3,
        weight_decay=1e-4,
        batch_size=128,
        max_epochs=100,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        weight_averaging=0.0,
        random_state=None,
        verbose=0,
        warm_start=False,
        record_gradients=False,
        device="cpu",
    ):
        store_init_params(self, locals())

    @available_if(_all_tasks_classify)
    def predict_proba(self, X):
        """Class probabilities of each task.

        Returns
        -------
        proba : ndarray or list of ndarray
            One array per task, in ``tasks_`` order: (n_samples, n_classes)
            for binary/multiclass tasks, (n_samples, n_labels) of independent
            label probabilities for multilabel tasks. A single array when Y
            was 1-D.
        """
        outputs, _, _, _ = self._predictions(X)
        probas = [outputs[name] for name in self.tasks_]
        return probas[0] if self.target_layout_.kind == "1d" else probas

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if tags.classifier_tags is None:  # the mixed estimator is no ClassifierMixin
            tags.classifier_tags = ClassifierTags()
        tags.classifier_tags.multi_label = True
        return tags

    def _fitted_extras(self, tasks, layout) -> dict:
        classes = [t.classes for t in tasks]
        return {"classes_": classes[0] if layout.kind == "1d" else classes}
