"""Property tests of the loss-weighting strategies (skmtl.weighting)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from torch import nn

from skmtl import MultiTaskRegressor
from skmtl.weighting import DBMTL, DWA, FAMO, RLW, GradNorm, StaticWeighting, WeightConditioned

ON = torch.tensor([True, True])


class Net(nn.Module):
    """A shared trunk and one linear head per task, like MultiTaskNetwork."""

    def __init__(self, n_in=5, width=8, n_tasks=2, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.trunk = nn.Sequential(nn.Linear(n_in, width), nn.Tanh(), nn.Linear(width, width))
        self.heads = nn.ModuleList(nn.Linear(width, 1) for _ in range(n_tasks))

    def shared_parameters(self):
        return list(self.trunk.parameters())

    def forward(self, x):
        h = self.trunk(x)
        return [head(h).squeeze(1) for head in self.heads]


def toy_data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g)
    y = torch.stack(
        [x @ torch.tensor([1.0, -2.0, 0.5, 0.0, 1.0]), x[:, 1] * x[:, 2], x[:, 3].abs()]
    )
    return x, y  # three targets; a two-task Net uses the first two


def task_losses(net, x, y, scale=(1.0, 1.0), present=None):
    out = net(x)
    present = (True,) * len(out) if present is None else present
    return torch.stack(
        [
            s * (o - t).pow(2).mean() * (1.0 if p else 0.0)  # absent: exactly 0, as masked
            for o, t, s, p in zip(out, y[: len(out)], scale, present, strict=True)
        ]
    )


def grads(net):
    return [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in net.parameters()]


STRATEGIES = {
    "static": lambda: StaticWeighting(weights=[2.0, 0.5]),
    "dwa": lambda: DWA(temperature=0.5),
    "rlw": lambda: RLW(random_state=0),
    "rlw_dirichlet": lambda: RLW(distribution="dirichlet", random_state=0),
    "gradnorm": lambda: GradNorm(learning_rate=0.1),
    "famo": lambda: FAMO(learning_rate=0.1),
    "dbmtl": lambda: DBMTL(),
    "conditioned": lambda: WeightConditioned(random_state=0),
    "conditioned_log": lambda: WeightConditioned(distribution="log_uniform", random_state=0),
}


# --------------------------------------------------------------------------- static


def test_static_weights_multiply_task_weights():
    losses = torch.tensor([1.0, 2.0, 4.0])
    tw = torch.tensor([1.0, 0.5, 2.0])
    for weights in ({"b": 3.0, "c": 0.25}, [1.0, 3.0, 0.25], np.array([1.0, 3.0, 0.25])):
        s = StaticWeighting(weights=weights)
        assert s.init(["a", "b", "c"]) is None
        total, used = s.combine(losses, torch.tensor([True, True, True]), tw, None)
        np.testing.assert_allclose(used.numpy(), [1.0, 1.5, 0.5])
        assert float(total) == pytest.approx(1.0 + 3.0 + 2.0)
        _, used = s.combine(losses, torch.tensor([True, False, True]), tw, None)
        np.testing.assert_allclose(used.numpy(), [1.0, 0.0, 0.5])
    s = StaticWeighting()
    s.init(["a", "b"])
    np.testing.assert_allclose(s.combine(losses[:2], ON, tw[:2], None)[1].numpy(), [1.0, 0.5])


@pytest.mark.parametrize(
    "weights, match",
    [
        ({"b": 1.0, "zz": 2.0, "yy": 1.0}, r"unknown tasks \['zz', 'yy'\]"),
        ([1.0, -0.5], "finite number >= 0"),
        ({"a": float("nan")}, "finite number >= 0"),
        ([1.0, float("inf")], "finite number >= 0"),
        ([1.0, 2.0, 3.0], "3 entries but there are 2 tasks"),
        ([True, 1.0], "finite number >= 0"),
        ("ab", "dict by task name or a sequence"),
    ],
)
def test_static_rejects_unknown_names_and_bad_weights(weights, match):
    with pytest.raises(ValueError, match=match):
        StaticWeighting(weights=weights).init(["a", "b"])


def test_static_weights_multiply_estimator_task_weights():
    X, Y = regression_data()
    model = MultiTaskRegressor(
        **FAST, task_weights=[2.0, 1.0], weighting=StaticWeighting(weights={"1": 3.0})
    ).fit(X, Y)
    assert model.history_[0, "task_weight"] == pytest.approx({"0": 2.0, "1": 3.0})


# --------------------------------------------------------------------------- DWA


def dwa_after(epochs, temperature=2.0):
    w = DWA(temperature=temperature)
    w.init([str(i) for i in range(len(epochs[0]))])
    for losses in epochs:
        w.end_epoch(np.asarray(losses, dtype=float))
    n = len(epochs[0])
    return w.combine(torch.ones(n), torch.ones(n, dtype=torch.bool), torch.ones(n), None)[1]


def test_dwa_is_equal_for_the_first_two_epochs():
    np.testing.assert_allclose(dwa_after([[1.0, 5.0, 0.1]]).numpy(), 1.0)
    w = DWA()
    w.init(["a", "b", "c"])
    np.testing.assert_allclose(w.dwa_weights_, 1.0)


def test_dwa_equal_rates_give_equal_weights():
    first = np.array([1.0, 10.0, 0.01])
    np.testing.assert_allclose(dwa_after([first, 0.7 * first]).numpy(), 1.0, rtol=1e-6)
    # Only the last two epochs count.
    np.testing.assert_allclose(
        dwa_after([[1.0, 1.0, 1.0], first, 0.5 * first]).numpy(), 1.0, rtol=1e-6
    )


def test_dwa_stalled_task_gets_more_weight():
    w = dwa_after([[1.0, 1.0], [0.5, 1.0]], temperature=2.0).numpy()
    assert w[1] > 1.0 > w[0]
    assert w.sum() == pytest.approx(2.0)
    e = np.exp(np.array([0.5, 1.0]) / 2.0)
    np.testing.assert_allclose(w, 2 * e / e.sum(), rtol=1e-6)
    # A lower temperature sharpens the difference.
    sharp = dwa_after([[1.0, 1.0], [0.5, 1.0]], temperature=0.1).numpy()
    assert sharp[1] > w[1] and sharp[1] > 1.9


def test_dwa_large_temperature_gives_equal_weights():
    w = dwa_after([[1.0, 1.0, 2.0], [0.1, 1.0, 3.0]], temperature=1e6).numpy()
    np.testing.assert_allclose(w, 1.0, atol=1e-5)


def test_dwa_task_without_labels_in_an_epoch_gets_the_neutral_ratio():
    # Task "c" had no labelled row in the last epoch (mean loss 0): ratio 1.
    w = dwa_after([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]]).numpy()
    np.testing.assert_allclose(w, 1.0, rtol=1e-6)


@pytest.mark.parametrize("t", [0, -1.0, float("inf"), "2"])
def test_dwa_rejects_bad_temperature(t):
    with pytest.raises(ValueError, match="temperature"):
        DWA(temperature=t).init(["a", "b"])


# --------------------------------------------------------------------------- RLW


def rlw_draws(strategy, n_steps=20, n_tasks=3, present=None):
    strategy.init([str(i) for i in range(n_tasks)])
    present = torch.ones(n_tasks, dtype=torch.bool) if present is None else present
    return torch.stack(
        [
            strategy.combine(torch.ones(n_tasks), present, torch.ones(n_tasks), None)[1]
            for _ in range(n_steps)
        ]
    ).numpy()


@pytest.mark.parametrize("distribution", ["normal", "dirichlet"])
def test_rlw_weights_are_positive_sum_to_one_and_vary(distribution):
    w = rlw_draws(RLW(distribution=distribution, random_state=0))
    assert np.all(w > 0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)
    assert np.all(np.abs(np.diff(w, axis=0)).max(axis=1) > 1e-4)  # a fresh draw every step
    # Absent tasks get 0; the present ones share the unit mass.
    w = rlw_draws(
        RLW(distribution=distribution, random_state=0), present=torch.tensor([True, False, True])
    )
    assert np.all(w[:, 1] == 0) and np.all(w[:, [0, 2]] > 0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)


def test_rlw_is_reproducible_given_random_state():
    a = rlw_draws(RLW(random_state=3))
    np.testing.assert_array_equal(a, rlw_draws(RLW(random_state=3)))
    np.testing.assert_array_equal(
        rlw_draws(RLW(random_state=np.random.RandomState(7))),
        rlw_draws(RLW(random_state=np.random.RandomState(7))),
    )
    # None seeds from torch's global generator (which the estimator seeds in fit).
    torch.manual_seed(0)
    b = rlw_draws(RLW())
    torch.manual_seed(0)
    np.testing.assert_array_equal(b, rlw_draws(RLW()))
    assert not np.allclose(a, rlw_draws(RLW(random_state=4)))
    # Re-initialising restarts the sequence.
    s = RLW(random_state=3)
    rlw_draws(s)
    np.testing.assert_array_equal(a, rlw_draws(s))


def test_rlw_rejects_unknown_distribution():
    with pytest.raises(ValueError, match="distribution"):
        RLW(distribution="uniform").init(["a", "b"])


# --------------------------------------------------------------------------- GradNorm


def weighted_norms(net, x, y, weights, scale):
    """``w_i ||grad_W L_i||`` on the last shared weight matrix ``W``."""
    W = net.trunk[2].weight
    losses = task_losses(net, x, y, scale)
    return np.array(
        [
            float(w) * float(torch.autograd.grad(losses[i], W, retain_graph=True)[0].norm())
            for i, w in enumerate(weights)
        ]
    )


def test_gradnorm_balances_gradient_norms_on_the_last_shared_layer():
    # Two linear tasks of the same difficulty; the second loss is scaled x10.
    x, _ = toy_data()
    y = torch.stack(
        [x @ torch.tensor([1.0, -2.0, 0.5, 0.0, 1.0]), x @ torch.tensor([0.5, 1.0, 1.0, -2.0, 0.0])]
    )
    scale = (1.0, 10.0)
    net, ref = Net(), Net()  # same init: GradNorm and equal weights
    opt = torch.optim.SGD(net.parameters(), lr=0.001)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.001)
    g = GradNorm()
    state = g.init(["a", "b"])
    for _ in range(60):
        opt.zero_grad()
        g.backward(task_losses(net, x, y, scale), ON, torch.ones(2), state, net)
        opt.step()
        assert float(state.weights.sum()) == pytest.approx(2.0, rel=1e-5)
        ref_opt.zero_grad()
        task_losses(ref, x, y, scale).sum().backward()
        ref_opt.step()
    w = state.weights.numpy()
    assert np.all(w > 0) and w[0] > 1.5 > 0.5 > w[1]  # the x10 task is down-weighted
    spread = lambda v: v.max() / v.min()  # noqa: E731
    equal = spread(weighted_norms(ref, x, y, [1.0, 1.0], scale))
    balanced = spread(weighted_norms(net, x, y, w, scale))
    assert equal > 5.0 and balanced < 1.5


def test_gradnorm_weights_are_not_trained_by_the_estimator_optimizer():
    # Buffers, not parameters: the network's optimiser cannot move them.
    state = GradNorm().init(["a", "b"])
    assert list(state.parameters()) == [] and "weights" in state.state_dict()


@pytest.mark.parametrize(
    "params", [{"alpha": -1.0}, {"learning_rate": 0.0}, {"learning_rate": float("nan")}]
)
def test_gradnorm_rejects_bad_params(params):
    with pytest.raises(ValueError, match="GradNorm"):
        GradNorm(**params).init(["a", "b"])


# --------------------------------------------------------------------------- FAMO


def famo_weights_over(decays, steps=60, **params):
    f = FAMO(**params)
    state = f.init([str(i) for i in range(len(decays))])
    p = nn.Parameter(torch.ones(()))
    history = []
    for t in range(steps):
        losses = torch.stack([torch.exp(torch.tensor(-d * t)) * p for d in decays])
        used = f.backward(
            losses,
            torch.ones(len(decays), dtype=torch.bool),
            torch.ones(len(decays)),
            state,
            nn.Module(),
        )
        history.append(used.numpy())
        np.testing.assert_allclose(used.numpy(), torch.softmax(state.logits, 0).numpy(), rtol=1e-6)
    return np.array(history)


def test_famo_weights_are_a_softmax_and_favour_the_slower_task():
    w = famo_weights_over([0.05, 0.005])
    assert np.all(w > 0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(w[0], 0.5)
    # Task 1's loss falls slower: its weight rises over the steps.
    assert w[-1, 1] > 0.7 and w[-1, 1] > w[len(w) // 2, 1] > w[1, 1]
    # Swapping the tasks swaps the outcome (no bias by position).
    swapped = famo_weights_over([0.005, 0.05])
    np.testing.assert_allclose(swapped[:, ::-1], w, rtol=1e-5)
    # Equal rates keep equal weights.
    np.testing.assert_allclose(famo_weights_over([0.02, 0.02]), 0.5, rtol=1e-5)


def test_famo_favours_the_slower_task_while_training_a_network():
    x, y = toy_data()
    y = y.clone()
    y[1] = torch.randn(y.shape[1], generator=torch.Generator().manual_seed(1))  # unlearnable
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    f = FAMO(learning_rate=0.05)
    state = f.init(["fast", "noise"])
    for _ in range(40):
        opt.zero_grad()
        used = f.backward(task_losses(net, x, y), ON, torch.ones(2), state, net)
        opt.step()
    assert used[1] > 0.6


# --------------------------------------------------------------------------- DB-MTL


def log_loss_grads(net, losses, params):
    return [
        torch.cat(
            [
                g.reshape(-1)
                for g in torch.autograd.grad(torch.log(l + 1e-8), params, retain_graph=True)
            ]
        )
        for l in losses
    ]


def test_dbmtl_balances_shared_gradient_norms():
    x, y = toy_data()
    net = Net()
    shared = net.shared_parameters()
    heads = list(net.heads.parameters())
    d = DBMTL(beta=0.9, beta_sigma=0.5)
    d.init(["a", "b"])
    ema = [torch.zeros(sum(p.numel() for p in shared)) for _ in range(2)]
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    for step in range(1, 4):
        losses = task_losses(net, x, y, scale=(1.0, 30.0))
        g = log_loss_grads(net, losses, shared)
        head_g = [
            torch.autograd.grad(
                torch.log(losses[0] + 1e-8) + torch.log(losses[1] + 1e-8), p, retain_graph=True
            )[0]
            for p in heads
        ]
        opt.zero_grad()
        used = d.backward(losses, ON, torch.ones(2), None, net)
        beta_t = 0.9 / step**0.5
        ema = [gi + beta_t * (e - gi) for gi, e in zip(g, ema, strict=True)]
        contributions = [float(w) * e for w, e in zip(used, ema, strict=True)]
        norms = [float(c.norm()) for c in contributions]
        assert norms[0] == pytest.approx(norms[1], rel=1e-4)  # balanced magnitudes
        assert float(used.min()) == pytest.approx(1.0)  # the larger gradient keeps its scale
        # The shared .grad is the sum of the reported contributions...
        got = torch.cat([p.grad.reshape(-1) for p in shared])
        torch.testing.assert_close(got, contributions[0] + contributions[1], rtol=1e-4, atol=1e-7)
        # ... and the heads get the plain gradient of the log-losses.
        for p, expected in zip(heads, head_g, strict=True):
            torch.testing.assert_close(p.grad, expected, rtol=1e-4, atol=1e-7)
        opt.step()
    # Unbalanced, the raw log-loss gradients differ in norm: the check above could fail.
    assert abs(float(g[0].norm()) / float(g[1].norm()) - 1) > 0.2


def test_dbmtl_is_invariant_to_loss_scale():
    x, y = toy_data()
    nets = [Net(seed=0), Net(seed=0)]
    strategies = [DBMTL(), DBMTL()]
    for s in strategies:
        s.init(["a", "b"])
    opts = [torch.optim.SGD(n.parameters(), lr=0.05) for n in nets]
    for _ in range(3):
        updates = []
        for net, s, opt, scale in zip(
            nets, strategies, opts, [(1.0, 1.0), (1.0, 100.0)], strict=True
        ):
            opt.zero_grad()
            s.backward(task_losses(net, x, y, scale), ON, torch.ones(2), None, net)
            updates.append(torch.cat([p.grad.reshape(-1) for p in net.shared_parameters()]))
            opt.step()
        a, b = updates
        assert float(torch.nn.functional.cosine_similarity(a, b, dim=0)) > 1 - 1e-5
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-7)
    # The equal-weight sum of raw losses is not invariant: the property is DB-MTL's.
    net = Net(seed=0)
    raw = []
    for scale in [(1.0, 1.0), (1.0, 100.0)]:
        net.zero_grad()
        task_losses(net, x, y, scale).sum().backward()
        raw.append(torch.cat([p.grad.reshape(-1) for p in net.shared_parameters()]))
    assert float(torch.nn.functional.cosine_similarity(raw[0], raw[1], dim=0)) < 0.999


def test_dbmtl_with_a_frozen_trunk_trains_the_heads_on_log_losses():
    x, y = toy_data()
    net = Net()
    net.trunk.requires_grad_(False)
    d = DBMTL()
    d.init(["a", "b"])
    used = d.backward(task_losses(net, x, y), ON, torch.tensor([1.0, 2.0]), None, net)
    assert used.tolist() == [1.0, 2.0]
    assert all(p.grad is None for p in net.trunk.parameters())
    assert all(p.grad is not None for p in net.heads.parameters())


@pytest.mark.parametrize("params", [{"beta": 1.0}, {"beta": -0.1}, {"beta_sigma": -1.0}])
def test_dbmtl_rejects_bad_params(params):
    with pytest.raises(ValueError, match="DBMTL"):
        DBMTL(**params).init(["a", "b"])


# --------------------------------------------------------------------------- all strategies


def total_from_weights(name, weights, losses, task_weights):
    """The loss the strategy claims to have used, rebuilt from its reported weights."""
    if name == "famo":
        safe = losses.clamp_min(0) + 1e-8
        z = weights / task_weights
        return (weights * torch.log(safe)).sum() / (z / safe.detach()).sum()
    return (weights * losses).sum()


@pytest.mark.parametrize("name", [n for n in STRATEGIES if n != "dbmtl"])
def test_reported_weights_are_the_weights_used(name):
    x, y = toy_data()
    net = Net()
    strategy = STRATEGIES[name]()
    state = strategy.init(["a", "b"])
    tw = torch.tensor([1.0, 0.5])
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    for epoch in range(4):
        for _ in range(5):  # the state moves between the steps
            losses = task_losses(net, x, y, scale=(1.0, 10.0))
            opt.zero_grad()
            used = strategy.backward(losses, ON, tw, state, net)
            got = grads(net)
            # Gradient check: .grad is the gradient of the loss rebuilt from `used`.
            net.zero_grad()
            total_from_weights(name, used, task_losses(net, x, y, (1.0, 10.0)), tw).backward()
            for a, b in zip(got, grads(net), strict=True):
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
            net.zero_grad()
            for p, g in zip(net.parameters(), got, strict=True):
                p.grad = g
            opt.step()
            # combine's total is the one rebuilt from its weights.
            losses = task_losses(net, x, y, (1.0, 10.0)).detach()
            total, weights = strategy.combine(losses, ON, tw, state)
            assert float(total) == pytest.approx(
                float(total_from_weights(name, weights, losses, tw)), rel=1e-5
            )
        strategy.end_epoch(np.array([1.0, 0.9 ** (epoch + 1)]))
    if name in ("gradnorm", "famo", "dwa"):  # the adaptive weights did move
        assert abs(float(used[0]) - 1.0 * float(used[1]) / 0.5) > 1e-3


def strategy_state(name, strategy, state):
    if state is not None:
        return {k: v.clone() for k, v in state.state_dict().items()}
    if name == "dbmtl":
        return {"ema": strategy.grad_ema_.clone(), "steps": torch.tensor(strategy.steps_)}
    if name == "dwa":
        return {"w": torch.tensor(strategy.dwa_weights_)}
    return {}


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_absent_task_gets_no_weight_and_leaves_its_state(name):
    x, y = toy_data()
    net = Net(n_tasks=3)
    strategy = STRATEGIES[name]()
    if name == "static":
        strategy.set_params(weights=[2.0, 0.5, 1.0])
    state = strategy.init(["a", "b", "c"])
    scale, all_on, ones = (1.0, 10.0, 3.0), torch.ones(3, dtype=torch.bool), torch.ones(3)
    for _ in range(3):
        net.zero_grad()
        strategy.backward(task_losses(net, x, y, scale), all_on, ones, state, net)
    strategy.end_epoch(np.array([1.0, 2.0, 3.0]))
    strategy.end_epoch(np.array([0.5, 2.0, 3.0]))
    before = strategy_state(name, strategy, state)
    on = torch.tensor([True, False, True])
    net.zero_grad()
    losses = task_losses(net, x, y, scale, present=(True, False, True))
    used = strategy.backward(losses, on, ones, state, net)
    assert float(used[1]) == 0.0 and float(used[0]) > 0 and float(used[2]) > 0
    assert all(p.grad is None or not p.grad.abs().any() for p in net.heads[1].parameters())
    assert any(p.grad is not None and p.grad.abs().any() for p in net.heads[2].parameters())
    after = strategy_state(name, strategy, state)
    changed = []
    for key, value in before.items():
        assert torch.equal(after[key][1], value[1]), f"{key} of the absent task changed"
        changed.append(not torch.equal(after[key], value))
    if name in ("gradnorm", "famo", "dbmtl"):  # the present tasks' state did move
        assert any(changed)
    _, weights = strategy.combine(losses.detach(), on, ones, state)
    assert float(weights[1]) == 0.0


PARAMS = {
    "static": {"weights": {"a": 2.0}},
    "dwa": {"temperature": 5.0},
    "rlw": {"distribution": "dirichlet", "random_state": 3},
    "rlw_dirichlet": {"random_state": None},
    "gradnorm": {"alpha": 0.5, "learning_rate": 0.1},
    "famo": {"learning_rate": 0.5, "weight_decay": 0.0},
    "dbmtl": {"beta": 0.5, "beta_sigma": 0.0},
    "conditioned": {"concentration": 0.5, "conditioning": "input"},
    "conditioned_log": {"min_weight": 0.1, "hidden_size": 8},
}


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_clone_get_params_set_params_round_trip(name):
    strategy = STRATEGIES[name]()
    params = strategy.get_params()
    copy = clone(strategy)
    assert copy is not strategy and copy.get_params() == params
    changed = clone(strategy).set_params(**PARAMS[name])
    assert changed.get_params() == {**params, **PARAMS[name]}
    assert type(strategy)(**changed.get_params()).get_params() == changed.get_params()
    strategy.init(["a", "b"])  # fitted attributes do not travel with a clone
    assert not hasattr(clone(strategy), "task_names_")


FAST = {"hidden_layer_sizes": (8,), "max_epochs": 4, "batch_size": 4, "random_state": 0}


def regression_data(n=64):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    Y = np.column_stack([X @ [1.0, 2.0, 0.0, 0.0], 10 * (X @ [0.0, 1.0, -1.0, 0.5])])
    Y[np.arange(n) % 5 != 0, 1] = np.nan  # task "1" is absent from many batches of 4
    return X, Y


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_each_strategy_trains_inside_an_estimator(name):
    X, Y = regression_data()
    model = MultiTaskRegressor(**FAST, weighting=STRATEGIES[name]()).fit(X, Y)
    weights = np.array([[e[t] for t in ("0", "1")] for e in model.history_[:, "task_weight"]])
    assert weights.shape == (FAST["max_epochs"], 2)
    assert np.all(np.isfinite(weights)) and np.all(weights > 0)
    assert np.all(np.isfinite(model.history_[:, "train_loss"]))
    if name.startswith("rlw"):
        # Random weights sum to 1 per batch; in batches without task "1" task "0" takes it
        # all, so the per-task mean weights (over batches with the task) sum to more than 1.
        assert np.all(weights.sum(axis=1) > 1.05)
    pred = model.predict(X)
    assert np.all(np.isfinite(pred))
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), pred)
    # Same random_state, same run (RLW's draws included).
    same = MultiTaskRegressor(**FAST, weighting=STRATEGIES[name]()).fit(X, Y)
    np.testing.assert_array_equal(same.predict(X), pred)


@pytest.mark.parametrize(
    "name, grid",
    [
        ("static", {"weighting__weights": [[1.0, 0.1], [1.0, 2.0]]}),
        ("dwa", {"weighting__temperature": [0.5, 5.0]}),
        ("rlw", {"weighting__distribution": ["normal", "dirichlet"]}),
        ("gradnorm", {"weighting__alpha": [0.5, 1.5]}),
        ("famo", {"weighting__learning_rate": [0.01, 0.1]}),
        ("dbmtl", {"weighting__beta": [0.0, 0.9]}),
    ],
)
def test_grid_search_over_a_strategy_param(name, grid):
    X, Y = regression_data()
    search = GridSearchCV(
        MultiTaskRegressor(**{**FAST, "max_epochs": 2}, weighting=STRATEGIES[name]()),
        grid,
        cv=2,
        error_score="raise",
    ).fit(X, Y)
    assert len(search.cv_results_["params"]) == 2
    ((param, values),) = grid.items()
    best = search.best_params_[param]
    assert best in values
    assert getattr(search.best_estimator_.weighting, param.split("__")[1]) == best
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
