"""Transfer to a new task: freeze what was learned, train only the new head."""

import numpy as np
import pandas as pd
import pytest
import torch

from skmtl import MultiTaskClassifier, MultiTaskEstimator


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    Y = pd.DataFrame({"a": (X[:, 0] > 0).astype(int), "b": (X[:, 1] + X[:, 0] > 0).astype(int)})
    # The new, low-resource task depends on the same direction the old ones learned.
    new = pd.DataFrame({"c": np.where(X[:, 0] - 0.2 * X[:, 1] > 0, "yes", "no").astype(object)})
    new.loc[40:, "c"] = None  # labels for 40 rows only
    return X, Y, new


def _params(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_add_tasks_trains_only_the_new_head(data):
    X, Y, new = data
    model = MultiTaskClassifier(
        hidden_layer_sizes=(16,),
        learning_rate=1e-2,
        max_epochs=40,
        weight_decay=0.0,
        random_state=0,
    ).fit(X, Y)
    before = _params(model.module_)
    model.add_tasks(X, new)
    after = _params(model.module_)
    for key, value in before.items():
        if key.startswith(("body.", "heads.")):
            assert torch.equal(value, after[key]), f"{key} changed although frozen"
    new_head = [k for k in after if k.startswith("heads.t2.")]
    assert new_head, "no head was added for the new task"
    assert list(model.tasks_) == ["a", "b", "c"]
    pred = model.predict(X)
    assert list(pred.columns) == ["a", "b", "c"]
    assert set(pred["c"]) <= {"yes", "no"}
    labelled = new["c"].notna().to_numpy()
    accuracy = (
        pred["c"].to_numpy()[~labelled]
        == np.where(X[~labelled, 0] - 0.2 * X[~labelled, 1] > 0, "yes", "no")
    ).mean()
    assert accuracy > 0.8  # 40 labels suffice: the frozen trunk already encodes x0
    assert np.array_equal(model.classes_[2], np.array(["no", "yes"]))
    assert all(p.requires_grad for p in model.module_.parameters())


def test_add_tasks_can_fine_tune_the_trunk(data):
    X, Y, new = data
    model = MultiTaskEstimator(hidden_layer_sizes=(16,), max_epochs=5, random_state=0).fit(X, Y)
    trunk_before = _params(model.module_.body)
    model.add_tasks(X, new, freeze_shared=False)
    trunk_after = _params(model.module_.body)
    assert any(not torch.equal(v, trunk_after[k]) for k, v in trunk_before.items())
    # A warm-start fit afterwards trains all three tasks together.
    full = pd.concat([Y, new.fillna("no")], axis=1)
    model.set_params(warm_start=True, max_epochs=2).fit(X, full)
    assert set(model.history_[-1, "task_loss"]) == {"a", "b", "c"}


def test_add_tasks_errors(data):
    X, Y, new = data
    model = MultiTaskClassifier(max_epochs=2, random_state=0)
    with pytest.raises(Exception, match="not fitted"):
        model.add_tasks(X, new)
    model.fit(X, Y)
    with pytest.raises(ValueError, match=r"already exist"):
        model.add_tasks(X, Y[["a"]])
    with pytest.raises(ValueError, match=r"samples but Y has"):
        model.add_tasks(X[:10], new)
    with pytest.raises(ValueError, match="DataFrame"):
        model.add_tasks(X, {"c": new["c"].to_numpy()})
    array_model = MultiTaskClassifier(max_epochs=2, random_state=0).fit(X, Y.to_numpy())
    with pytest.raises(ValueError, match="named tasks"):
        array_model.add_tasks(X, new)
