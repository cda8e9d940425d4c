"""scikit-learn's estimator checks over every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl import MultiTaskClassifier, MultiTaskEstimator, MultiTaskRegressor

# Mini-batch AdamW over shuffled rows: a row of weight 2 does not follow the
# same optimisation path as the same row repeated twice (sklearn lists the
# same failure for its own SGD and MLP estimators).
_SGD_REASON = (
    "stochastic mini-batch training: weighting a row is not the same optimisation path "
    "as repeating it"
)
# The classifiers pass these checks: their predicted labels agree although the
# probabilities differ slightly. The regressor's real-valued outputs do not.
EXPECTED_FAILED_CHECKS = {
    "MultiTaskRegressor": {
        "check_sample_weight_equivalence_on_dense_data": _SGD_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SGD_REASON,
    },
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(
    [
        MultiTaskClassifier(random_state=0),
        MultiTaskRegressor(random_state=0),
        MultiTaskEstimator(random_state=0),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
