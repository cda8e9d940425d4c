"""Property and known-answer tests of the sharing architectures (skmtl.architectures).

They run on a toy :class:`SharedStack` defined here: the stem is the identity or a
Linear layer, the blocks are Linear + ReLU of width 8, the gates a Linear layer on
their source; at the token level the batch is a dict with ``"x"`` ``(B, T, F)``
and ``"mask"``, which the blocks apply.
"""

from __future__ import annotations

import copy
import pickle
import re

import pytest
import torch
from sklearn.base import clone
from torch import nn

from skmtl.architectures import (
    CGC,
    PLE,
    Architecture,
    ArchitectureModule,
    CrossStitch,
    DSelectK,
    HardSharing,
    Hierarchical,
    MMoE,
    SharedStack,
)
from skmtl.architectures._dselect_k import binary_codes, smooth_step
from skmtl.architectures._ple import split_levels
from skmtl.weighting import GradDrop

N_FEATURES, STEM_WIDTH, WIDTH, BATCH, TOKENS = 5, 6, 8, 7, 4
TASKS = ["a", "b", "c"]


def _x(batch):
    return batch["x"] if isinstance(batch, dict) else batch


class _Stem(nn.Module):
    def __init__(self, linear: bool) -> None:
        super().__init__()
        self.linear = nn.Linear(N_FEATURES, STEM_WIDTH) if linear else None

    def forward(self, batch):
        x = _x(batch)
        return x if self.linear is None else torch.tanh(self.linear(x))


class _Block(nn.Module):
    def __init__(self, n_in: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, WIDTH)

    def forward(self, h, batch):
        out = torch.relu(self.linear(h))
        if isinstance(batch, dict):
            out = out * batch["mask"].unsqueeze(-1).to(out.dtype)
        return out


class _Gate(nn.Module):
    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)

    def forward(self, h, batch):
        return self.linear(h)


class ToyStack:
    """A :class:`SharedStack` of ``n_blocks`` Linear + ReLU blocks of width 8."""

    def __init__(self, n_blocks: int = 3, stem: str = "linear", level: str = "row") -> None:
        self.n_blocks = n_blocks
        self.stem = stem
        self._level = level

    def make_stem(self) -> nn.Module:
        return _Stem(self.stem == "linear")

    def make_block(self, i: int) -> nn.Module:
        assert 0 <= i < self.n_blocks
        return _Block(self.out_features(i - 1))

    def out_features(self, i: int) -> int:
        if i == -1:
            return STEM_WIDTH if self.stem == "linear" else N_FEATURES
        return WIDTH

    def level(self, i: int) -> str:
        return self._level

    def make_gate(self, n_out: int, source: int, target: int) -> nn.Module:
        assert -1 <= source < target < self.n_blocks or source == target == -1
        return _Gate(self.out_features(source), n_out)


def make_batch(level: str, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    if level == "row":
        return torch.randn(BATCH, N_FEATURES, generator=g)
    mask = torch.ones(BATCH, TOKENS, dtype=torch.bool)
    mask[0, 2:] = False
    return {"x": torch.randn(BATCH, TOKENS, N_FEATURES, generator=g), "mask": mask}


ARCHITECTURES = {
    "hard": lambda: HardSharing(),
    "hierarchical": lambda: Hierarchical(layers={"a": 1, "b": 2}),
    "cross_stitch": lambda: CrossStitch(),
    "cross_stitch_fixed": lambda: CrossStitch(self_weight=0.7, learn_units=False),
    "mmoe": lambda: MMoE(n_experts=3),
    "cgc": lambda: CGC(),
    "ple": lambda: PLE(),
    "ple3": lambda: PLE(n_levels=3, n_shared_experts=1, n_task_experts=2),
    "dselect_k": lambda: DSelectK(n_experts=3, k=2),
    "dselect_k4": lambda: DSelectK(n_experts=4, k=2, gamma=2.0),
}
NAMES = list(ARCHITECTURES)
STACKS = [("row", "linear"), ("row", "identity"), ("token", "linear")]


def build(name, level="row", stem="linear", seed=0, tasks=TASKS, n_blocks=3):
    torch.manual_seed(seed)
    return ARCHITECTURES[name]().build(ToyStack(n_blocks, stem, level), list(tasks))


def perturb(module: nn.Module, seed: int, buffers: bool = True) -> None:
    """Move every parameter (and float buffer) off its initial value."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in list(module.parameters()) + (list(module.buffers()) if buffers else []):
            if t.is_floating_point():
                t.add_(0.3 * torch.randn(t.shape, generator=g))


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("level,stem", STACKS)
@pytest.mark.parametrize("name", NAMES)
def test_forward_gives_one_representation_per_task(name, level, stem):
    assert isinstance(ToyStack(), SharedStack)
    assert isinstance(ARCHITECTURES[name](), Architecture)
    module = build(name, level, stem)
    assert isinstance(module, ArchitectureModule)
    out = module(make_batch(level))
    assert list(out) == TASKS
    assert module.out_features == dict.fromkeys(TASKS, WIDTH)
    lead = (BATCH,) if level == "row" else (BATCH, TOKENS)
    for task, h in out.items():
        assert h.shape == (*lead, module.out_features[task])
        assert torch.all(torch.isfinite(h))
    ids = {id(p) for p in module.parameters()}
    assert {id(p) for p in module.shared_parameters()} == ids
    assert all(isinstance(z, torch.Tensor) for z in module.representation)


@pytest.mark.parametrize("name", NAMES)
def test_representation_is_kept_only_in_training_with_gradients(name):
    module = build(name)
    batch = make_batch("row")
    module(batch)
    assert module.representation
    blob = pickle.dumps(module)  # a batch's activations are never saved
    assert pickle.loads(blob).representation is None
    assert copy.deepcopy(module).representation is None
    with torch.no_grad():
        module(batch)
    assert module.representation is None
    module(batch)
    module.eval()
    module(batch)
    assert module.representation is None  # a probe's graph is not kept
    module.requires_grad_(False)  # frozen (and in eval mode) while new tasks train:
    module(batch)  # the cut is kept, and carries no graph
    assert module.representation and not any(z.requires_grad for z in module.representation)


# --------------------------------------------------------------------------- the cut


def upstream_of_cut(module, batch, seed=0):
    """Check that ``module.representation`` is a cut; return ``{name: upstream}``.

    The gradient of a random linear function of the task outputs with respect to
    every shared parameter upstream of the cut must equal the back-propagation of
    its gradient with respect to the cut's tensors through the cut (no path
    bypasses the cut); a parameter not upstream of the cut keeps its direct
    gradient. No tensor of the cut may depend on another.
    """
    module.train()
    out = module(batch)
    cut = module.representation
    assert isinstance(cut, list) and all(isinstance(z, torch.Tensor) for z in cut)
    assert len({id(z) for z in cut}) == len(cut)
    live = [z for z in cut if z.requires_grad]
    for i, z in enumerate(live):
        others = live[:i] + live[i + 1 :]
        if others:
            deps = torch.autograd.grad(z.sum(), others, retain_graph=True, allow_unused=True)
            assert all(d is None for d in deps), "a tensor of the cut depends on another"
    g = torch.Generator().manual_seed(seed)
    loss = sum((torch.randn(h.shape, generator=g) * h).sum() for h in out.values())
    trained = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    names, params = [n for n, _ in trained], [p for _, p in trained]
    full = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    at_cut = torch.autograd.grad(loss, live, retain_graph=True, allow_unused=True)
    at_cut = [torch.zeros_like(z) if d is None else d for d, z in zip(at_cut, live, strict=True)]
    via = torch.autograd.grad(live, params, grad_outputs=at_cut, allow_unused=True)
    for name, f, v in zip(names, full, via, strict=True):
        if v is not None:
            assert f is not None, name
            torch.testing.assert_close(v, f, msg=f"{name}: a path bypasses the cut")
    return {name: v is not None for name, v in zip(names, via, strict=True)}


def above_the_cut(name: str, module) -> set[str]:
    """The parameters a valid and tight cut leaves above it (plain gradient)."""
    params = [n for n, _ in module.named_parameters()]
    if name == "hierarchical":  # blocks above the lowest layer read (layer 1)
        return {n for n in params if re.match(r"blocks\.blocks\.[12]\.", n)}
    if name == "cross_stitch":  # the last unit acts after the columns' last outputs
        last = module.stack.n_blocks - 1
        return {n for n in params if re.fullmatch(rf"units\.items\.\d+\.alpha\.{last}", n)}
    return set()


@pytest.mark.parametrize("level,stem", STACKS)
@pytest.mark.parametrize("name", NAMES)
def test_the_representation_is_a_cut(name, level, stem):
    module = build(name, level, stem)
    upstream = upstream_of_cut(module, make_batch(level))
    assert {n for n, up in upstream.items() if not up} == above_the_cut(name, module)
    if stem == "linear":  # the stem is shared below every cut
        assert upstream["stem.linear.weight"]
    # Still a cut with new tasks, and when the old network is frozen (as add_tasks trains).
    old = {id(p) for p in module.parameters()}
    module.add_tasks(["d", "e"])
    upstream_of_cut(module, make_batch(level, seed=1), seed=1)
    for p in module.parameters():
        p.requires_grad_(id(p) not in old)
    if name not in ("hard", "hierarchical"):  # they add no parameter
        upstream_of_cut(module, make_batch(level, seed=2), seed=2)


def test_a_cut_that_misses_the_gates_is_caught():
    """The checker itself: MMoE's experts alone do not cut the stem from the outputs."""
    module = build("mmoe")
    forward = module.forward

    def experts_only(batch):
        out = forward(batch)
        module.representation = module.representation[: len(module.experts)]
        return out

    module.forward = experts_only
    with pytest.raises(AssertionError, match="bypasses the cut"):
        upstream_of_cut(module, make_batch("row"))


class _Net(nn.Module):
    """An architecture module with a linear head per task, as an estimator's network."""

    def __init__(self, module, tasks) -> None:
        super().__init__()
        self.arch = module
        self.heads = nn.ModuleList(nn.Linear(module.out_features[t], 1) for t in tasks)
        self.tasks = list(tasks)

    @property
    def representation(self):
        return self.arch.representation

    @representation.setter
    def representation(self, value):
        self.arch.representation = value

    def shared_parameters(self):
        return self.arch.shared_parameters()

    def losses(self, batch):
        out = self.arch(batch)
        return torch.stack(
            [head(out[t]).pow(2).mean() for t, head in zip(self.tasks, self.heads, strict=True)]
        )


@pytest.mark.parametrize("level", ["row", "token"])
@pytest.mark.parametrize("name", NAMES)
def test_representation_mode_with_a_plain_sum_is_the_ordinary_gradient(name, level):
    """GradDrop(leak=1) sums the task gradients of the cut: through a valid cut that
    is exactly the gradient of the weighted loss sum, for every parameter."""
    tw = torch.tensor([1.0, 2.0, 0.5])
    present = torch.tensor([True, True, True])
    torch.manual_seed(1)
    net = _Net(build(name, level), TASKS)
    ref = copy.deepcopy(net)
    strategy = GradDrop(leak=1.0, on="representation")
    strategy.init(TASKS)
    strategy.backward(net.losses(make_batch(level)), present, tw, None, net)
    assert net.representation is None
    want = torch.autograd.grad((tw * ref.losses(make_batch(level))).sum(), list(ref.parameters()))
    for (n, p), w in zip(net.named_parameters(), want, strict=True):
        torch.testing.assert_close(p.grad, w, msg=n)


# --------------------------------------------------------------------------- add_tasks


@pytest.mark.parametrize("level,stem", STACKS)
@pytest.mark.parametrize("name", NAMES)
def test_add_tasks_keeps_the_old_outputs(name, level, stem):
    module = build(name, level, stem)
    perturb(module, 0)  # away from any symmetric initialisation
    batch = make_batch(level)
    before = module(batch)
    old_ids = {id(p) for p in module.parameters()}
    new = module.add_tasks(["d", "e"])
    assert module.out_features == dict.fromkeys([*TASKS, "d", "e"], WIDTH)
    new_params = [p for m in new for p in m.parameters()]
    assert not {id(p) for p in new_params} & old_ids
    assert {id(p) for p in new_params} <= {id(p) for p in module.parameters()}
    after = module(batch)
    assert list(after) == [*TASKS, "d", "e"]
    for t in TASKS:
        torch.testing.assert_close(after[t], before[t], rtol=0, atol=0)
    assert after["d"].shape == after["a"].shape
    # Training the new modules (the old network frozen) moves the new tasks only.
    for m in new:
        perturb(m, 1)
    trained = module(batch)
    for t in TASKS:
        torch.testing.assert_close(trained[t], before[t], rtol=0, atol=0)
    if name in ("hard", "hierarchical"):
        assert new == []
    else:
        assert new_params and not torch.allclose(trained["d"], after["d"])
        for p in module.parameters():  # the old network frozen: the old tasks train nothing
            p.requires_grad_(id(p) not in old_ids)
        frozen = module(batch)
        assert not any(frozen[t].requires_grad for t in TASKS)
        grads = torch.autograd.grad(frozen["d"].sum() + frozen["e"].sum(), new_params)
        assert any(g.abs().sum() > 0 for g in grads)
    with pytest.raises(ValueError, match="already has tasks"):
        module.add_tasks(["a"])


def test_add_tasks_puts_the_new_modules_beside_the_old_ones():
    module = build("mmoe").double()
    (gate,) = module.add_tasks(["d"])
    assert all(p.dtype == torch.float64 for p in gate.parameters())
    assert module(make_batch("row").double())["d"].dtype == torch.float64


# --------------------------------------------------------------------------- parameters


PARAMS = {
    "hierarchical": ("layers", {"a": 2}),
    "cross_stitch": ("self_weight", 0.5),
    "mmoe": ("n_experts", 2),
    "cgc": ("n_task_experts", 2),
    "ple": ("n_levels", 3),
    "dselect_k": ("k", 1),
}


@pytest.mark.parametrize("name", NAMES)
def test_clone_and_get_params_round_trip(name):
    arch = ARCHITECTURES[name]()
    params = arch.get_params()
    assert clone(arch).get_params() == params
    assert type(arch)(**params).get_params() == params
    assert pickle.loads(pickle.dumps(arch)).get_params() == params
    assert repr(arch).startswith(type(arch).__name__)
    if name in PARAMS:
        key, value = PARAMS[name]
        changed = clone(arch).set_params(**{key: value})
        assert changed.get_params()[key] == value
        assert arch.get_params() == params  # the original is untouched
        changed.build(ToyStack(), TASKS)


@pytest.mark.parametrize("name", NAMES)
def test_a_built_module_pickles_with_its_outputs(name):
    module = build(name)
    perturb(module, 0)
    module.add_tasks(["d"])
    batch = make_batch("row")
    want = module(batch)
    again = pickle.loads(pickle.dumps(module))
    got = again(batch)
    for t in want:
        torch.testing.assert_close(got[t], want[t], rtol=0, atol=0)
    again.add_tasks(["e"])  # the stack's recipe travels with it
    assert "e" in again(batch)


BAD = [
    (MMoE(n_experts=0), "n_experts"),
    (MMoE(n_experts=2.5), "n_experts"),
    (MMoE(n_experts=True), "n_experts"),
    (DSelectK(n_experts=0), "n_experts"),
    (DSelectK(n_experts=4, k=5), "k"),
    (DSelectK(k=0), "k"),
    (DSelectK(gamma=0.0), "gamma"),
    (DSelectK(gamma=float("nan")), "gamma"),
    (CrossStitch(self_weight=1.5), "self_weight"),
    (CrossStitch(self_weight="high"), "self_weight"),
    (CrossStitch(learn_units="yes"), "learn_units"),
    (PLE(n_levels=0), "n_levels"),
    (PLE(n_levels=4), "n_levels"),  # the toy stack has 3 blocks
    (PLE(n_shared_experts=-1), "n_shared_experts"),
    (PLE(n_task_experts=0, n_shared_experts=0), "n_shared_experts"),
    (CGC(n_task_experts=-1), "n_task_experts"),
    (Hierarchical(layers={"a": 1, "zzz": 2}), "zzz"),
    (Hierarchical(layers={"a": 4}), r"\[1, 3\]"),
    (Hierarchical(layers={"a": 0}), r"\[1, 3\]"),
    (Hierarchical(layers={"a": 1.0}), "layers"),
    (Hierarchical(layers=[1, 2]), "layers"),
]


@pytest.mark.parametrize("arch,match", BAD, ids=[f"{type(a).__name__}-{m}" for a, m in BAD])
def test_bad_parameters_are_refused_at_build_naming_them(arch, match):
    with pytest.raises(ValueError, match=match):
        arch.build(ToyStack(), TASKS)


@pytest.mark.parametrize("name", ["cross_stitch", "mmoe", "cgc", "ple", "dselect_k"])
def test_expert_architectures_need_a_block(name):
    with pytest.raises(ValueError, match="n_blocks=0"):
        build(name, n_blocks=0)


def test_task_names_are_checked():
    with pytest.raises(ValueError, match="unique"):
        MMoE().build(ToyStack(), ["a", "a"])
    with pytest.raises(ValueError, match="at least one task"):
        HardSharing().build(ToyStack(), [])


def test_hard_sharing_without_blocks_reads_the_stem():
    module = build("hard", n_blocks=0)
    out = module(make_batch("row"))
    assert out["a"].shape == (BATCH, STEM_WIDTH)
    assert module.out_features["a"] == STEM_WIDTH
    assert len(module.representation) == 1 and module.representation[0] is out["a"]


# --------------------------------------------------------------------------- known answers


def copy_stack(dst_stem, dst_blocks, src_stem, src_blocks):
    dst_stem.load_state_dict(src_stem.state_dict())
    dst_blocks.load_state_dict(src_blocks.state_dict())


def assert_same_outputs(a, b, batch, tasks=TASKS):
    out_a, out_b = a(batch), b(batch)
    for t in tasks:
        torch.testing.assert_close(out_a[t], out_b[t])


@pytest.mark.parametrize("level,stem", STACKS)
def test_mmoe_with_one_expert_is_hard_sharing(level, stem):
    mmoe = MMoE(n_experts=1).build(ToyStack(3, stem, level), TASKS)
    perturb(mmoe, 0)
    hard = build("hard", level, stem, seed=5)
    copy_stack(hard.stem, hard.blocks, mmoe.stem, mmoe.experts[0])
    assert_same_outputs(mmoe, hard, make_batch(level))
    # ... and so is DSelect-k over one expert (no code bit: each selector picks it).
    dsel = DSelectK(n_experts=1, k=1).build(ToyStack(3, stem, level), TASKS)
    perturb(dsel, 1)
    copy_stack(hard.stem, hard.blocks, dsel.stem, dsel.experts[0])
    assert_same_outputs(dsel, hard, make_batch(level))


@pytest.mark.parametrize("level", ["row", "token"])
def test_cross_stitch_with_self_weight_one_is_independent_networks(level):
    stack = ToyStack(3, "linear", level)
    cs = CrossStitch(self_weight=1.0, learn_units=False).build(stack, TASKS)
    perturb(cs, 0, buffers=False)
    batch = make_batch(level)
    out = cs(batch)
    for task in TASKS:
        alone = HardSharing().build(stack, [task])
        copy_stack(alone.stem, alone.blocks, cs.stem, cs.columns[task])
        torch.testing.assert_close(out[task], alone(batch)[task])
    # Units that mix, with the same columns, give other outputs.
    mixed = CrossStitch(self_weight=0.5, learn_units=False).build(stack, TASKS)
    mixed.stem.load_state_dict(cs.stem.state_dict())
    mixed.columns.load_state_dict(cs.columns.state_dict())
    assert not torch.allclose(mixed(batch)["a"], out["a"])


def test_cross_stitch_units_start_as_the_paper_and_grow_with_new_tasks():
    cs = CrossStitch(self_weight=0.9).build(ToyStack(), TASKS)
    for i, unit in enumerate(cs.units.items):
        for layer in range(3):
            want = torch.full((3,), 0.05)
            want[i] = 0.9
            torch.testing.assert_close(unit.alpha[layer].detach(), want)
    cs.add_tasks(["d"])
    new = cs.units["d"].alpha[0].detach()
    torch.testing.assert_close(new, torch.tensor([0.1 / 3, 0.1 / 3, 0.1 / 3, 0.9]))
    assert all(unit.alpha[0].shape == (3,) for unit in cs.units.items[:3])
    single = CrossStitch(self_weight=0.9).build(ToyStack(), ["a"])
    assert single.units["a"].alpha[0].tolist() == [1.0]  # one task: the identity
    assert (
        not CrossStitch(learn_units=False)
        .build(ToyStack(), TASKS)
        .units["a"]
        .alpha[0]
        .requires_grad
    )


@pytest.mark.parametrize("level,stem", STACKS)
@pytest.mark.parametrize(
    "make",
    [
        lambda: PLE(n_levels=1, n_shared_experts=3, n_task_experts=0),
        lambda: CGC(n_shared_experts=3, n_task_experts=0),
    ],
)
def test_one_level_ple_without_task_experts_is_mmoe(make, level, stem):
    stack = ToyStack(3, stem, level)
    ple = make().build(stack, TASKS)
    perturb(ple, 0)
    mmoe = MMoE(n_experts=3).build(stack, TASKS)
    (lvl,) = ple.levels
    mmoe.stem.load_state_dict(ple.stem.state_dict())
    for dst, src in zip(mmoe.experts, lvl.shared, strict=True):
        dst.load_state_dict(src.state_dict())
    for t in TASKS:
        mmoe.gates[t].load_state_dict(lvl.gates[t].state_dict())
    assert_same_outputs(ple, mmoe, make_batch(level))


def test_ple_levels_feed_forward_as_the_paper():
    """Two levels, checked by hand: task paths, the shared path and its gate."""
    stack = ToyStack(4, "linear", "row")
    ple = PLE(n_levels=2, n_shared_experts=2, n_task_experts=1).build(stack, ["a", "b"])
    perturb(ple, 0)
    batch = make_batch("row")
    x = ple.stem(batch)
    first, second = ple.levels
    assert first.block_ids == [0, 1] and second.block_ids == [2, 3]

    def level_out(level, h_task, h_shared, task):
        own = [e(h_task, batch) for e in level.experts[task]]
        shared = [e(h_shared, batch) for e in level.shared]
        w = torch.softmax(level.gates[task](h_task, batch), -1)
        return sum(w[:, i : i + 1] * h for i, h in enumerate(own + shared))

    h = {t: level_out(first, x, x, t) for t in ("a", "b")}
    pool = [first.experts["a"][0](x, batch), first.experts["b"][0](x, batch)]
    pool += [e(x, batch) for e in first.shared]
    ws = torch.softmax(first.shared_gate(x, batch), -1)
    h_shared = sum(ws[:, i : i + 1] * e for i, e in enumerate(pool))
    out = ple(batch)
    for t in ("a", "b"):
        torch.testing.assert_close(out[t], level_out(second, h[t], h_shared, t))
    assert second.shared_gate is None


def test_split_levels_is_contiguous_and_balanced():
    assert split_levels(3, 1) == [[0, 1, 2]]
    assert split_levels(3, 2) == [[0, 1], [2]]
    assert split_levels(5, 3) == [[0, 1], [2, 3], [4]]
    assert split_levels(3, 3) == [[0], [1], [2]]


@pytest.mark.parametrize("level,stem", STACKS)
def test_hierarchical_with_every_task_on_top_is_hard_sharing(level, stem):
    hard = build("hard", level, stem, seed=3)
    for layers in (None, {"a": 3, "b": 3, "c": 3}, {"b": 3}):
        hier = Hierarchical(layers=layers).build(ToyStack(3, stem, level), TASKS)
        perturb(hier, 0)
        copy_stack(hard.stem, hard.blocks, hier.stem, hier.blocks)
        assert_same_outputs(hier, hard, make_batch(level))


def test_hierarchical_tasks_read_their_own_layer():
    hier = Hierarchical(layers={"a": 1, "b": 2}).build(ToyStack(3), TASKS)
    batch = make_batch("row")
    h0 = hier.stem(batch)
    h1 = hier.blocks.blocks[0](h0, batch)
    h2 = hier.blocks.blocks[1](h1, batch)
    h3 = hier.blocks.blocks[2](h2, batch)
    out = hier(batch)
    for t, want in zip(TASKS, (h1, h2, h3), strict=True):
        torch.testing.assert_close(out[t], want)
    assert hier.representation[0] is out["a"]
    hier.add_tasks(["d"])
    torch.testing.assert_close(hier(batch)["d"], h3)


def test_smooth_step():
    t = torch.linspace(-3, 3, 121, dtype=torch.float64, requires_grad=True)
    for gamma in (0.5, 1.0, 2.0):
        s = smooth_step(t, gamma)
        assert torch.all(s[t <= -gamma / 2] == 0) and torch.all(s[t >= gamma / 2] == 1)
        inside = (t.abs() < gamma / 2).detach()
        tt = t.detach()[inside]
        torch.testing.assert_close(
            s.detach()[inside], -2 / gamma**3 * tt**3 + 3 / (2 * gamma) * tt + 0.5
        )
        (ds,) = torch.autograd.grad(s.sum(), t)
        assert torch.all(ds >= 0) and torch.all(torch.isfinite(ds))
    far = torch.tensor([-1e30, 1e30], requires_grad=True)
    (g,) = torch.autograd.grad(smooth_step(far, 1.0).sum(), far)
    assert torch.all(g == 0)


def test_dselect_k_weights():
    assert binary_codes(4).int().tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert binary_codes(3).int().tolist() == [[0, 0], [0, 1], [1, 0]]
    assert binary_codes(1).shape == (1, 0)
    g = torch.Generator().manual_seed(0)
    four = DSelectK(n_experts=4, k=2).build(ToyStack(), TASKS)
    logits = torch.randn(50, 2 * 2 + 2, generator=g)
    w = four.expert_weights(logits)
    assert w.shape == (50, 4) and torch.all(w >= 0)
    torch.testing.assert_close(w.sum(-1), torch.ones(50))  # a power of 2: every code exists
    # Saturated codes select one expert per selector: here experts 1 (01) and 2 (10).
    hard = torch.tensor([[-5.0, 5.0, 5.0, -5.0, 0.0, 0.0]])
    torch.testing.assert_close(four.expert_weights(hard), torch.tensor([[0.0, 0.5, 0.5, 0.0]]))
    # The selector weights are the softmax of the last k logits.
    lopsided = torch.tensor([[-5.0, 5.0, 5.0, -5.0, 2.0, 0.0]])
    p = torch.softmax(torch.tensor([2.0, 0.0]), 0)
    torch.testing.assert_close(four.expert_weights(lopsided), torch.tensor([[0, p[0], p[1], 0]]))
    three = DSelectK(n_experts=3, k=2).build(ToyStack(), TASKS)
    w3 = three.expert_weights(logits)
    assert w3.shape == (50, 3) and torch.all(w3.sum(-1) <= 1 + 1e-6)
    torch.testing.assert_close(w3, w[:, :3])  # the same codes, the 4th one unused
    # The gate reads the stem: k * m + k logits per row, or per token.
    assert three.gates["a"].linear.out_features == 2 * 2 + 2
    out = DSelectK(n_experts=8, k=3).build(ToyStack(level="token"), TASKS)
    assert out.gates["a"].linear.out_features == 3 * 3 + 3
    assert out(make_batch("token"))["a"].shape == (BATCH, TOKENS, WIDTH)
