"""Property tests of GLS, STCH, IMTL-L and ExcessMTL (skmtl.weighting)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from _toy_nets import TrunkNet, flat, regression_data
from _toy_nets import rand_G as _rand_G
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skmtl import MultiTaskClassifier, MultiTaskRegressor
from skmtl.weighting import GLS, IMTLL, STCH, ExcessMTL

ON = torch.tensor([True, True])


class Net(TrunkNet):
    """Two tasks by default."""


def toy_data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g)
    y = torch.stack(
        [x @ torch.tensor([1.0, -2.0, 0.5, 0.0, 1.0]), x[:, 1] * x[:, 2], x[:, 3].abs()]
    )
    return x, y


def task_losses(net, x, y, scale=None, present=None):
    out = net(x)
    scale = (1.0,) * len(out) if scale is None else scale
    present = (True,) * len(out) if present is None else present
    return torch.stack(
        [
            s * (o - t).pow(2).mean() * (1.0 if p else 0.0)  # absent: exactly 0, as masked
            for o, t, s, p in zip(out, y[: len(out)], scale, present, strict=True)
        ]
    )


def grads(params):
    return [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in params]


def rand_G(seed, k=3, n=6, scales=None):
    return _rand_G(seed, k=k, n=n, scales=scales)


# --------------------------------------------------------------------------- GLS


def test_gls_is_the_weighted_geometric_mean_and_its_gradient():
    x, y = toy_data()
    for tw in (torch.ones(2), torch.tensor([1.0, 3.0])):
        net, ref = Net(), Net()
        used = GLS().backward(task_losses(net, x, y, (1.0, 10.0)), ON, tw, None, net)
        losses = task_losses(ref, x, y, (1.0, 10.0))
        e = tw / tw.sum()
        want = torch.prod(losses**e)  # prod_i L_i^(c_i / C)
        if torch.equal(tw, torch.ones(2)):  # LibMTL's (prod_i L_i)^(1/k)
            torch.testing.assert_close(want, torch.pow(losses.prod(), 1.0 / 2))
        want.backward()
        for a, b in zip(grads(net.parameters()), grads(ref.parameters()), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-8)
        torch.testing.assert_close(used, (want * e / losses).detach(), rtol=1e-5, atol=0)
        total, weights = GLS().combine(losses.detach(), ON, tw, None)
        assert float(total) == pytest.approx(float(want.detach()), rel=1e-6)
        # Only the ratios of task_weights matter.
        total5, weights5 = GLS().combine(losses.detach(), ON, 5 * tw, None)
        assert float(total5) == pytest.approx(float(total), rel=1e-6)
        torch.testing.assert_close(weights5, weights)


def test_gls_update_direction_is_invariant_to_the_scale_of_a_loss():
    x, y = toy_data()
    updates, raw = [], []
    for scale in ((1.0, 1.0), (1.0, 100.0)):
        net = Net()
        GLS().backward(task_losses(net, x, y, scale), ON, torch.ones(2), None, net)
        updates.append(flat(grads(net.parameters())))
        net.zero_grad()
        task_losses(net, x, y, scale).sum().backward()
        raw.append(flat(grads(net.parameters())))
    # grad GLS = GLS sum_i grad log L_i / k: a factor 100 on L_2 multiplies GLS by 10.
    torch.testing.assert_close(updates[1], 10 * updates[0], rtol=1e-4, atol=1e-7)
    cos = torch.nn.functional.cosine_similarity
    assert float(cos(raw[0], raw[1], dim=0)) < 0.99  # the plain sum is not invariant


def test_gls_handles_zero_losses_and_zero_task_weights():
    losses = torch.tensor([0.0, 4.0], requires_grad=True)
    total, weights = GLS().combine(losses, ON, torch.ones(2), None)
    total.backward()
    assert torch.isfinite(losses.grad).all() and torch.isfinite(weights).all()
    torch.testing.assert_close(losses.grad, weights)  # d GLS / d L_i is the weight
    total, weights = GLS().combine(torch.tensor([1.0, 4.0]), ON, torch.tensor([0.0, 1.0]), None)
    assert float(total) == pytest.approx(4.0) and weights.tolist() == [0.0, 1.0]
    total, weights = GLS().combine(torch.tensor([1.0, 4.0]), ON, torch.zeros(2), None)
    assert float(total) == 0.0 and weights.tolist() == [0.0, 0.0]


# --------------------------------------------------------------------------- STCH


def stch_after(epochs, n_tasks=2, **params):
    s = STCH(**params)
    assert s.init(["a", "b", "c"][:n_tasks]) is None
    for losses in epochs:
        s.end_epoch(np.asarray(losses, dtype=float))
    return s


def test_stch_warm_up_trains_log_losses_and_sets_the_reference_point():
    losses = torch.tensor([0.5, 2.0])
    tw = torch.tensor([1.0, 2.0])
    s = stch_after([], mu=0.5, warmup_epochs=2)
    total, weights = s.combine(losses, ON, tw, None)
    assert float(total) == pytest.approx(float((tw * torch.log(losses)).sum()), rel=1e-6)
    torch.testing.assert_close(weights, tw / losses, rtol=1e-6, atol=0)
    s.end_epoch(np.array([2.0, 4.0]))
    np.testing.assert_array_equal(s.nadir_, [2.0, 4.0])
    s.end_epoch(np.array([1.0, 0.0]))  # the last warm-up epoch counts; "b" had no labels
    np.testing.assert_array_equal(s.nadir_, [1.0, 4.0])
    s.end_epoch(np.array([5.0, 5.0]))  # after warm-up z is fixed
    np.testing.assert_array_equal(s.nadir_, [1.0, 4.0])
    # A task without labels in every warm-up epoch: z = 1 until its first epoch.
    s = stch_after([[1.0, 0.0]], warmup_epochs=1)
    assert np.isnan(s.nadir_[1])
    s.end_epoch(np.array([3.0, 2.0]))
    np.testing.assert_array_equal(s.nadir_, [1.0, 2.0])
    # No warm-up: no normalisation at all.
    s = stch_after([[3.0, 2.0]], warmup_epochs=0)
    assert np.all(np.isnan(s.nadir_))
    total, _ = s.combine(losses, ON, torch.ones(2), None)
    want = 2 * torch.logsumexp(torch.log(losses), 0)
    assert float(total) == pytest.approx(float(want), rel=1e-6)


def test_stch_approaches_the_tchebycheff_max_and_its_weights_are_a_softmax():
    z = np.array([1.0, 1.0, 0.25])
    s = stch_after([z], n_tasks=3, warmup_epochs=1)
    L = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64)
    tw = torch.tensor([1.0, 1.0, 2.0], dtype=torch.float64)
    on = torch.ones(3, dtype=torch.bool)
    a = tw * (torch.log(L) - torch.log(torch.from_numpy(z)))  # c_i (log L_i - log z_i)
    k = 3
    gaps = []
    for mu in (1.0, 0.1, 0.01, 0.001):
        s.set_params(mu=mu)
        losses = L.clone().requires_grad_(True)
        total, weights = s.combine(losses, on, tw, None)
        gap = float(total.detach()) / k - float(a.max())
        assert -1e-12 <= gap <= mu * np.log(k) + 1e-12
        gaps.append(gap)
        p = weights * L / (k * tw)
        torch.testing.assert_close(p, torch.softmax(a / mu, 0), rtol=1e-6, atol=1e-12)
        assert float(p.sum()) == pytest.approx(1.0)
        total.backward()  # the weights are the gradient of the loss in each L_i
        torch.testing.assert_close(losses.grad, weights, rtol=1e-6, atol=1e-12)
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 1e-3
    assert float(p[2]) > 0.999  # mu -> 0: all the weight on the worst normalised task


def libmtl_stch(losses, nadir, mu):
    """LibMTL's STCH loss after warm-up (LibMTL/weighting/STCH.py)."""
    losses = torch.log(losses / nadir + 1e-20)
    max_term = torch.max(losses.data).detach()
    reg_losses = losses - max_term
    return mu * torch.log(torch.sum(torch.exp(reg_losses / mu))) * len(losses)


def test_stch_gradient_is_libmtls():
    x, y = toy_data()
    nadir = [0.8, 3.0]
    for mu in (1.0, 0.2):
        net, ref = Net(), Net()
        s = stch_after([nadir], mu=mu, warmup_epochs=1)
        s.backward(task_losses(net, x, y, (1.0, 10.0)), ON, torch.ones(2), None, net)
        libmtl_stch(task_losses(ref, x, y, (1.0, 10.0)), torch.tensor(nadir), mu).backward()
        for a, b in zip(grads(net.parameters()), grads(ref.parameters()), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-8)


# --------------------------------------------------------------------------- IMTL-L


def test_imtll_scales_converge_to_the_inverse_losses():
    losses = torch.tensor([0.1, 5.0, 100.0])
    tw = torch.tensor([1.0, 2.0, 1.0])
    on = torch.ones(3, dtype=torch.bool)
    w = IMTLL()
    state = w.init(["a", "b", "c"])
    assert len(list(state.parameters())) == 3
    # Plain gradient descent on s: the curvature at the optimum is c_i (<= 2 here).
    opt = torch.optim.SGD(state.parameters(), lr=0.5)
    for _ in range(300):
        opt.zero_grad()
        total, weights = w.combine(losses, on, tw, state)
        total.backward()
        opt.step()
    s = torch.stack(list(state.scales)).detach()
    torch.testing.assert_close(torch.exp(s) * losses, torch.ones(3), rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(s, -torch.log(losses), rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(weights, tw / losses, rtol=2e-3, atol=0)


def test_imtll_absent_scale_gets_no_gradient_and_does_not_move_under_adam():
    w = IMTLL(init_scale=0.5)
    state = w.init(["a", "b"])
    opt = torch.optim.Adam(state.parameters(), lr=0.1)
    losses = torch.tensor([2.0, 3.0])
    for _ in range(3):  # Adam moments for both scales
        opt.zero_grad(set_to_none=True)
        w.combine(losses, ON, torch.ones(2), state)[0].backward()
        opt.step()
    before = [float(p.detach()) for p in state.scales]
    opt.zero_grad(set_to_none=True)
    total, weights = w.combine(
        losses * torch.tensor([1.0, 0.0]), torch.tensor([True, False]), torch.ones(2), state
    )
    total.backward()
    assert state.scales[1].grad is None and state.scales[0].grad is not None
    opt.step()
    after = [float(p.detach()) for p in state.scales]
    assert after[1] == before[1] and after[0] != before[0]
    assert float(weights[1]) == 0.0
    assert float(total.detach()) == pytest.approx(np.exp(before[0]) * 2.0 - before[0], rel=1e-6)


# --------------------------------------------------------------------------- ExcessMTL


def test_excessmtl_upweights_the_task_whose_excess_risk_stays_high():
    def run(make_G, steps=12, **params):
        w = ExcessMTL(robust_step_size=0.5, **params)
        w.init(["a", "b"])
        return np.array([w.aggregate(make_G(t))[1].numpy() for t in range(steps)])

    # Task "b" converges (its gradients vanish), task "a" does not.
    def converging(t):
        return rand_G(t, k=2, scales=[1.0, 0.6**t])

    w = run(converging)
    np.testing.assert_allclose(w[0], 1.0)  # the warm-up step: the plain sum
    np.testing.assert_allclose(w.sum(axis=1), 2.0)
    assert w[-1, 0] > 1.5 > 0.5 > w[-1, 1] and w[-1, 0] > w[len(w) // 2, 0] > w[1, 0]
    # No bias by position; the scale of a task's loss does not matter (scale processing).
    np.testing.assert_allclose(run(lambda t: converging(t).flip(0))[:, ::-1], w, rtol=1e-10)
    scaled = run(lambda t: converging(t) * torch.tensor([[1.0], [100.0]], dtype=torch.float64))
    np.testing.assert_allclose(scaled, w, rtol=1e-5)
    # Identical tasks keep equal weights.
    np.testing.assert_allclose(run(lambda t: rand_G(t, k=1).repeat(2, 1), n_warmup_steps=2), 1.0)


def official_excessmtl(Gs, robust_step_size):
    """The official code's (and LibMTL's) weights over a sequence of gradient matrices."""
    loss_weight = torch.ones(Gs[0].shape[0], dtype=Gs[0].dtype)
    grad_sum, initial_w, out = None, None, []
    for grads in Gs:
        if grad_sum is None:
            grad_sum = torch.zeros_like(grads)
        w = torch.zeros(len(grads), dtype=grads.dtype)
        for i in range(len(grads)):
            grad_sum[i] += grads[i] ** 2
            h_i = torch.sqrt(grad_sum[i] + 1e-7)
            w[i] = grads[i] * (1 / h_i) @ grads[i].t()
        if initial_w is None:
            initial_w = w
        else:
            w = w / initial_w
            loss_weight = loss_weight * torch.exp(w * robust_step_size)
            loss_weight = loss_weight / loss_weight.sum() * len(grads)
        out.append(loss_weight.clone())
    return out


def test_excessmtl_is_the_official_algorithm():
    Gs = [rand_G(t, scales=[1.0, 3 * 0.8**t, 0.5]) for t in range(10)]
    w = ExcessMTL(robust_step_size=0.7)
    w.init(["a", "b", "c"])
    for G, want in zip(Gs, official_excessmtl(Gs, 0.7), strict=True):
        d, alpha = w.aggregate(G)
        torch.testing.assert_close(alpha, want, rtol=1e-10, atol=0)
        torch.testing.assert_close(d, want @ G)
    assert not torch.allclose(alpha, torch.ones(3, dtype=alpha.dtype), atol=1e-2)  # moved


def test_excessmtl_agrees_with_torchjd():
    aggregation = pytest.importorskip("torchjd.aggregation")
    for warmup in (1, 3):
        ours = ExcessMTL(robust_step_size=0.5, n_warmup_steps=warmup)
        ours.init(["a", "b", "c"])
        theirs = aggregation.ExcessMTL(robust_step_size=0.5, n_warmup_steps=warmup)
        for t in range(8):
            G = rand_G(10 + t, scales=[1.0, 3 * 0.8**t, 0.5])
            d, alpha = ours.aggregate(G)
            # TorchJD's weights sum to 1, ours to the number of tasks.
            torch.testing.assert_close(d, 3 * theirs(G), rtol=1e-6, atol=1e-9)
        assert not torch.allclose(alpha, torch.ones(3, dtype=alpha.dtype), atol=1e-2)
    # TorchJD's n_warmup_steps=0 moves the weights on the first step with the raw excess
    # risk; the official code (and ours) keeps them equal on that step.
    G = rand_G(0, scales=[1.0, 3.0, 0.5])
    first = aggregation.ExcessMTL(robust_step_size=0.5, n_warmup_steps=0)(G)
    assert not torch.allclose(first, G.mean(0), atol=1e-3)
    ours = ExcessMTL(robust_step_size=0.5)
    ours.init(["a", "b", "c"])
    torch.testing.assert_close(ours.aggregate(G)[0], G.sum(0))


def test_excessmtl_backward_writes_the_aggregate_and_keeps_an_absent_tasks_state():
    x, y = toy_data()
    tw = torch.tensor([1.0, 3.0, 2.0])
    net = Net(n_tasks=3)
    w = ExcessMTL(robust_step_size=1.0)
    w.init(["a", "b", "c"])
    on = torch.ones(3, dtype=torch.bool)
    for _ in range(2):
        net.zero_grad()
        w.backward(task_losses(net, x, y, (1.0, 10.0, 3.0)), on, tw, None, net)
    before = copy.deepcopy(w)
    present = torch.tensor([True, False, True])
    net.zero_grad()
    losses = task_losses(net, x, y, (1.0, 10.0, 3.0), present=(True, False, True))
    used = w.backward(losses, present, tw, None, net)
    assert net.representation is None
    # The shared gradient is the aggregate of the two present tasks' gradients.
    losses = task_losses(net, x, y, (1.0, 10.0, 3.0), present=(True, False, True))
    shared = net.shared_parameters()
    G = torch.stack(
        [flat(torch.autograd.grad(tw[i] * losses[i], shared, retain_graph=True)) for i in (0, 2)]
    )
    d, alpha = copy.deepcopy(before)._aggregate_tasks(G, [0, 2])
    torch.testing.assert_close(flat([p.grad for p in shared]), d, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(used, torch.stack([alpha[0], torch.tensor(0.0), 2 * alpha[1]]))
    for i in range(3):  # each head: the gradient of its own weighted loss
        want = torch.autograd.grad(
            used[i] * losses[i], list(net.heads[i].parameters()), retain_graph=True
        )
        for p, g in zip(net.heads[i].parameters(), want, strict=True):
            torch.testing.assert_close(p.grad, g, rtol=1e-5, atol=1e-8)
    assert all(not p.grad.abs().any() for p in net.heads[1].parameters())
    # The absent task's state did not move; the present ones' did.
    assert torch.equal(w.sq_grad_sum_[1], before.sq_grad_sum_[1])
    assert not torch.equal(w.sq_grad_sum_[0], before.sq_grad_sum_[0])
    for name in ("log_weights_", "baseline_", "steps_", "warmup_steps_", "warmup_sum_"):
        assert getattr(w, name)[1] == getattr(before, name)[1], name
    assert w.log_weights_[0] != before.log_weights_[0]
    # The present tasks' total weight is kept.
    mass = lambda s: np.exp(s.log_weights_[[0, 2]]).sum()  # noqa: E731
    assert mass(w) == pytest.approx(mass(before))


def test_excessmtl_on_the_representation_sums_the_statistics_over_the_batch():
    x, y = toy_data()
    net = Net()
    w = ExcessMTL(on="representation", robust_step_size=1.0)
    w.init(["a", "b"])
    for n in (64, 7, 30):  # batch sizes change; the statistics' width does not
        net.zero_grad()
        losses = task_losses(net, x[:n], y[:, :n])
        z = net.representation
        gz = [torch.autograd.grad(losses[i], z, retain_graph=True)[0] for i in range(2)]
        before = copy.deepcopy(w)
        used = w.backward(losses, ON, torch.ones(2), None, net)
        assert w.sq_grad_sum_.shape == (2, 8)
        want = before.sq_grad_sum_ if before.sq_grad_sum_ is not None else torch.zeros(2, 8)
        torch.testing.assert_close(w.sq_grad_sum_, want + torch.stack(gz).sum(1) ** 2)
        got = grads(net.parameters())
        net.zero_grad()
        (used * task_losses(net, x[:n], y[:, :n])).sum().backward()
        for a, b in zip(got, grads(net.parameters()), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-8)
    assert w.steps_.tolist() == [3, 3] and not np.allclose(w.log_weights_, 0.0)


# --------------------------------------------------------------------------- all four

STRATEGIES = {
    "gls": lambda: GLS(),
    "stch": lambda: STCH(mu=0.5, warmup_epochs=1),
    "imtll": lambda: IMTLL(),
    "excessmtl": lambda: ExcessMTL(robust_step_size=1.0),
    "excessmtl_rep": lambda: ExcessMTL(on="representation", robust_step_size=1.0, n_warmup_steps=3),
}


def rebuilt_total(name, weights, losses, task_weights, state):
    """The loss the strategy claims to have used, rebuilt from its reported weights."""
    total = (weights * losses).sum()
    if name == "imtll":
        # sum_i c_i (exp(s_i) L_i - s_i) with w_i = c_i exp(s_i): its gradient in s_i is
        # w_i L_i - c_i, that of the middle term (w_i detached).
        s = torch.stack(list(state.scales))
        total = total + (weights * losses.detach() * s).sum() - (task_weights * s).sum()
    return total


def state_of(name, strategy, state):
    if name == "imtll":
        return {"s": torch.stack([p.detach().clone() for p in state.scales])}
    if name == "stch":
        return {"nadir": torch.tensor(strategy.nadir_)}
    if name.startswith("excessmtl"):
        return {
            "log_w": torch.tensor(strategy.log_weights_),
            "steps": torch.tensor(strategy.steps_),
            "acc": strategy.sq_grad_sum_.clone(),
        }
    return {}


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_reported_weights_are_the_weights_used(name):
    x, y = toy_data()
    net = Net()
    strategy = STRATEGIES[name]()
    state = strategy.init(["a", "b"])
    params = list(net.parameters()) + ([] if state is None else list(state.parameters()))
    tw = torch.tensor([1.0, 0.5])
    opt = torch.optim.SGD(params, lr=0.01)
    history = []
    for epoch in range(3):
        for _ in range(4):  # the state moves between the steps
            losses = task_losses(net, x, y, scale=(1.0, 10.0))
            opt.zero_grad()
            used = strategy.backward(losses, ON, tw, state, net)
            history.append(used.numpy().copy())
            got = grads(params)
            # Gradient check: .grad is the gradient of the loss rebuilt from `used`.
            opt.zero_grad()
            rebuilt_total(name, used, task_losses(net, x, y, (1.0, 10.0)), tw, state).backward()
            for a, b in zip(got, grads(params), strict=True):
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
            for p, g in zip(params, got, strict=True):
                p.grad = g
            opt.step()
            # combine's total is the one rebuilt from its weights where it is that sum.
            losses = task_losses(net, x, y, (1.0, 10.0)).detach()
            total, weights = strategy.combine(losses, ON, tw, state)
            if name != "stch":  # GLS: sum_i w_i L_i = GLS (up to eps)
                rebuilt = (weights * losses).sum()
                if name == "imtll":
                    rebuilt = rebuilt - (tw * torch.stack(list(state.scales))).sum()
                assert float(total.detach()) == pytest.approx(float(rebuilt.detach()), rel=1e-5)
        strategy.end_epoch(np.array([1.0, 0.9 ** (epoch + 1)]))
    history = np.array(history)
    ratio = history[:, 1] / history[:, 0]
    assert np.ptp(ratio) > 1e-3  # the relative weights did move


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_absent_task_gets_no_weight_and_leaves_its_state(name):
    x, y = toy_data()
    net = Net(n_tasks=3)
    strategy = STRATEGIES[name]()
    state = strategy.init(["a", "b", "c"])
    params = list(net.parameters()) + ([] if state is None else list(state.parameters()))
    opt = torch.optim.Adam(params, lr=0.01)
    scale, all_on, ones = (1.0, 10.0, 3.0), torch.ones(3, dtype=torch.bool), torch.ones(3)
    for _ in range(3):
        opt.zero_grad(set_to_none=True)
        strategy.backward(task_losses(net, x, y, scale), all_on, ones, state, net)
        opt.step()
    strategy.end_epoch(np.array([1.0, 2.0, 3.0]))
    before = state_of(name, strategy, state)
    on = torch.tensor([True, False, True])
    opt.zero_grad(set_to_none=True)
    losses = task_losses(net, x, y, scale, present=(True, False, True))
    used = strategy.backward(losses, on, ones, state, net)
    assert float(used[1]) == 0.0 and float(used[0]) > 0 and float(used[2]) > 0
    assert all(p.grad is None or not p.grad.abs().any() for p in net.heads[1].parameters())
    assert any(p.grad is not None and p.grad.abs().any() for p in net.heads[2].parameters())
    opt.step()
    strategy.end_epoch(np.array([1.0, 0.0, 3.0]))  # no labels for "b" in the whole epoch
    after = state_of(name, strategy, state)
    changed = []
    for key, value in before.items():
        assert torch.equal(after[key][1], value[1]), f"{key} of the absent task changed"
        changed.append(not torch.equal(after[key], value))
    if name in ("imtll", "excessmtl", "excessmtl_rep"):  # the present tasks' state did move
        assert any(changed)
    _, weights = strategy.combine(losses.detach(), on, ones, state)
    assert float(weights[1]) == 0.0


PARAMS = {
    "gls": {},
    "stch": {"mu": 0.1, "warmup_epochs": 0},
    "imtll": {"init_scale": -1.0},
    "excessmtl": {"robust_step_size": 0.1, "n_warmup_steps": 4, "on": "representation"},
    "excessmtl_rep": {"on": "parameters"},
}


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_clone_get_params_set_params_round_trip(name):
    strategy = STRATEGIES[name]()
    params = strategy.get_params()
    copy_ = clone(strategy)
    assert copy_ is not strategy and copy_.get_params() == params
    changed = clone(strategy).set_params(**PARAMS[name])
    assert changed.get_params() == {**params, **PARAMS[name]}
    assert type(strategy)(**changed.get_params()).get_params() == changed.get_params()
    assert copy.deepcopy(strategy).get_params() == params
    strategy.init(["a", "b"])  # fitted attributes do not travel with a clone
    assert not hasattr(clone(strategy), "task_names_")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: STCH(mu=0.0), "STCH mu"),
        (lambda: STCH(mu=float("nan")), "STCH mu"),
        (lambda: STCH(warmup_epochs=-1), "STCH warmup_epochs"),
        (lambda: STCH(warmup_epochs=1.5), "STCH warmup_epochs"),
        (lambda: STCH(warmup_epochs=True), "STCH warmup_epochs"),
        (lambda: IMTLL(init_scale=float("inf")), "IMTLL init_scale"),
        (lambda: IMTLL(init_scale="0"), "IMTLL init_scale"),
        (lambda: ExcessMTL(robust_step_size=0.0), "ExcessMTL robust_step_size"),
        (lambda: ExcessMTL(robust_step_size=-1.0), "ExcessMTL robust_step_size"),
        (lambda: ExcessMTL(n_warmup_steps=0), "ExcessMTL n_warmup_steps"),
        (lambda: ExcessMTL(n_warmup_steps=2.0), "ExcessMTL n_warmup_steps"),
        (lambda: ExcessMTL(on="bogus"), "ExcessMTL on must be"),
    ],
)
def test_bad_parameters_are_refused_at_fit_time(make, match):
    strategy = make()  # __init__ only stores them
    with pytest.raises(ValueError, match=match):
        strategy.init(["a", "b"])
    X, Y = regression_data(16)
    with pytest.raises(ValueError, match=match):
        MultiTaskRegressor(**{**FAST, "max_epochs": 1}, weighting=strategy).fit(X, Y)


FAST = {"hidden_layer_sizes": (8,), "max_epochs": 3, "batch_size": 8, "random_state": 0}


def classification_data(n=60):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0]).astype(float)
    Y[np.arange(n) % 6 != 0, 1] = np.nan
    return X, Y


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("estimator", ["regressor", "classifier"])
@pytest.mark.parametrize("name", list(STRATEGIES))
def test_each_strategy_trains_inside_an_estimator(name, estimator):
    if estimator == "regressor":
        X, Y = regression_data()
        make = lambda: MultiTaskRegressor(**FAST, weighting=STRATEGIES[name]())  # noqa: E731
    else:
        X, Y = classification_data()
        make = lambda: MultiTaskClassifier(**FAST, weighting=STRATEGIES[name]())  # noqa: E731
    model = make().fit(X, Y)
    assert len(model.history_) == 3
    assert np.all(np.isfinite(model.history_[:, "train_loss"]))
    weights = np.array([[e[t] for t in ("0", "1")] for e in model.history_[:, "task_weight"]])
    assert np.all(np.isfinite(weights)) and np.all(weights > 0)
    pred = model.predict(X)
    if estimator == "regressor":
        assert np.all(np.isfinite(pred))
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), pred)
    np.testing.assert_array_equal(make().fit(X, Y).predict(X), pred)  # same random_state
    assert copy.deepcopy(model.weighting_).get_params() == model.weighting_.get_params()
    if name.startswith("excessmtl"):
        assert model.weighting_.steps_.min() >= 1 and not np.allclose(
            model.weighting_.log_weights_, 0.0
        )
        torch.testing.assert_close(again.weighting_.sq_grad_sum_, model.weighting_.sq_grad_sum_)
        assert not hasattr(again.weighting_, "_workspace")
    if name == "stch":
        assert np.all(np.isfinite(model.weighting_.nadir_)) and model.weighting_.epochs_ == 3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "name, grid",
    [
        ("gls", {"learning_rate": [1e-3, 1e-2]}),  # no parameter of its own
        ("stch", {"weighting__mu": [0.1, 1.0]}),
        ("imtll", {"weighting__init_scale": [-1.0, 0.0]}),
        ("excessmtl", {"weighting__robust_step_size": [0.01, 1.0]}),
        ("excessmtl_rep", {"weighting__n_warmup_steps": [1, 3]}),
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
    if param.startswith("weighting__"):
        assert getattr(search.best_estimator_.weighting, param.split("__")[1]) == best
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
