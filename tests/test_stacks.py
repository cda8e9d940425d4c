"""The shared stacks: FeatureStack and TextStack as stem + blocks + gates."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch import nn

from skmtl.architectures._base import SharedStack
from skmtl.encoders import (
    EncoderTrunk,
    FeatureStack,
    MLPTrunk,
    SparseRows,
    TextEncoder,
    TextEncoderModule,
    TextStack,
)
from skmtl.encoders._layers import prepare_features, to_batch

TINY = {"embed_dim": 8, "width": 16, "n_rows": 500, "dropout": 0.0}
ARCHS = ["cnn", "bilstm", "transformer"]
TEXTS = ["A good film.", "Bad, really bad!", "", "The plot was okay I guess, not great"]


def _run(stem, blocks, batch):
    h = stem(batch)
    outputs = [h]
    for block in blocks:
        h = block(h, batch)
        outputs.append(h)
    return outputs


def _copy_state(source: nn.Module, targets: list[nn.Module]) -> None:
    """Load ``source``'s state, in order, into the concatenated states of ``targets``."""
    values = list(source.state_dict().values())
    for target in targets:
        keys = list(target.state_dict())
        chunk, values = values[: len(keys)], values[len(keys) :]
        shapes = [tuple(v.shape) for v in target.state_dict().values()]
        assert [tuple(v.shape) for v in chunk] == shapes
        target.load_state_dict(dict(zip(keys, chunk, strict=True)))
    assert not values


# -- FeatureStack ---------------------------------------------------------------------


@pytest.mark.parametrize("normalization", [None, "layer", "batch"])
@pytest.mark.parametrize("sparse", [False, True])
def test_feature_stack_equals_mlp_trunk(normalization, sparse):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 7)) * (rng.uniform(size=(20, 7)) < 0.4)
    data = prepare_features(sp.csr_matrix(X) if sparse else X)
    batch = to_batch(data, 0, 20)
    assert isinstance(batch, SparseRows) == sparse
    kwargs = {"activation": "tanh", "normalization": normalization}
    torch.manual_seed(0)
    trunk = MLPTrunk(7, (6, 5, 4), **kwargs)
    stack = FeatureStack(7, (6, 5, 4), **kwargs)
    stem, blocks = stack.make_stem(), [stack.make_block(i) for i in range(stack.n_blocks)]
    _copy_state(trunk, blocks)
    for train in (True, False):  # batch norm: batch statistics, then running statistics
        trunk.train(train)
        for block in blocks:
            block.train(train)
        out = _run(stem, blocks, batch)[-1]
        torch.testing.assert_close(out, trunk(batch), rtol=0, atol=0)
    assert out.shape == (20, 4)


def test_feature_stack_levels_widths_and_protocol():
    stack = FeatureStack(5, (8, 4))
    assert isinstance(stack, SharedStack)
    assert stack.n_blocks == 2
    assert [stack.out_features(i) for i in (-1, 0, 1)] == [5, 8, 4]
    assert [stack.level(i) for i in (-1, 0, 1)] == ["row"] * 3
    assert FeatureStack(5, 3).n_blocks == 1  # an int is one layer, as in the estimators
    with pytest.raises(ValueError, match="i must be an integer in"):
        stack.make_block(2)
    with pytest.raises(ValueError, match="i must be an integer in"):
        stack.out_features(-2)
    with pytest.raises(ValueError, match="at least one"):
        FeatureStack(5, ())
    with pytest.raises(ValueError, match="activation"):
        FeatureStack(5, (3,), activation="swish")
    with pytest.raises(ValueError, match="normalization"):
        FeatureStack(5, (3,), normalization="group")
    with pytest.raises(ValueError, match="dropout"):
        FeatureStack(5, (3,), dropout=1.0)
    assert pickle.loads(pickle.dumps(stack)).hidden_layer_sizes == (8, 4)


def _assert_fresh(make):
    """Two calls give modules with the same shapes and distinct, differently drawn tensors."""
    a, b = make(), make()
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb) and sa
    assert all(sa[k].shape == sb[k].shape for k in sa)
    assert not {id(p) for p in a.parameters()} & {id(p) for p in b.parameters()}
    random = [k for k in sa if sa[k].is_floating_point() and sa[k].numel() > 1]
    assert any(not torch.equal(sa[k], sb[k]) for k in random)
    with torch.no_grad():
        next(a.parameters()).add_(1.0)
    assert not torch.equal(next(a.parameters()), next(b.parameters()))


def test_feature_stack_blocks_and_gates_are_fresh():
    stack = FeatureStack(5, (8, 4), normalization="layer")
    for i in range(2):
        _assert_fresh(lambda i=i: stack.make_block(i))
    _assert_fresh(lambda: stack.make_gate(3, -1, 1))
    assert list(stack.make_stem().parameters()) == []


def test_feature_stack_gate_shapes_dense_and_sparse():
    stack = FeatureStack(6, (8, 4))
    X = np.random.RandomState(0).normal(size=(5, 6)) * np.tri(5, 6)
    dense = torch.as_tensor(prepare_features(X))
    rows = to_batch(prepare_features(sp.csr_matrix(X)), 0, 5)
    gate = stack.make_gate(3, -1, 0)
    torch.testing.assert_close(gate(rows, rows), gate(dense, dense))
    assert gate(dense, dense).shape == (5, 3)
    h = stack.make_block(0)(dense, dense)
    assert stack.make_gate(2, 0, 1)(h, dense).shape == (5, 2)
    assert stack.make_gate(2, 0)(h, dense).shape == (5, 2)  # target: the last block
    with pytest.raises(ValueError, match="source"):
        stack.make_gate(2, 2, 1)
    with pytest.raises(ValueError, match="n_out"):
        stack.make_gate(0, -1, 1)


# -- TextStack: the same network as TextEncoderModule ---------------------------------


def _spec(arch, **kwargs):
    params = {**TINY, "depth": 2, "architecture": arch, **kwargs}
    return TextEncoder(**params)


def _batch(enc, texts=TEXTS):
    return enc.batch(enc.prepare(texts), 0, len(texts))


def _reference_tokens(arch, module: TextEncoderModule, batch):
    """Token vectors of the monolithic encoder (one nn.LSTM / nn.TransformerEncoder)."""
    mask = batch["mask"]
    m = mask.unsqueeze(-1).float()
    x = module.stem.embed(batch)
    blocks = list(module.blocks)
    if arch == "cnn":
        x = x * m
        for block in blocks:
            h = block.conv(x.transpose(1, 2)).transpose(1, 2)
            x = (x + block.norm(nn.functional.gelu(h))) * m
        return x
    if arch == "bilstm":
        first = blocks[0].lstm
        lstm = nn.LSTM(first.input_size, first.hidden_size, len(blocks), bidirectional=True)
        lstm.batch_first = True
        for k, block in enumerate(blocks):
            for name, value in block.lstm.named_parameters():
                getattr(lstm, name.replace("_l0", f"_l{k}")).data.copy_(value)
        lengths = mask.sum(1).clamp(min=1)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, True, enforce_sorted=False)
        out, _ = nn.utils.rnn.pad_packed_sequence(lstm(packed)[0], True, total_length=x.shape[1])
        if blocks[-1].proj is not None:
            out = blocks[-1].proj(out)
        return out * m
    x = x + module.stem.positions.weight[: x.shape[1]]
    encoder = nn.TransformerEncoder(
        blocks[0].layer, len(blocks), norm=blocks[-1].norm, enable_nested_tensor=False
    )
    for layer, block in zip(encoder.layers, blocks, strict=True):
        layer.load_state_dict(block.layer.state_dict())
    padding = ~mask
    padding[:, 0] &= mask.any(dim=1)
    return encoder(x, src_key_padding_mask=padding) * m


@pytest.mark.parametrize(
    "arch, extra",
    [
        ("cnn", {}),
        ("cnn", {"window": 2, "char_dim": 3}),
        ("bilstm", {}),
        ("bilstm", {"width": 15, "depth": 3}),  # odd width: the last block projects
        ("transformer", {}),
    ],
)
@pytest.mark.parametrize("pooling", ["mean", "mean+max"])
def test_text_stack_equals_text_encoder_module(arch, extra, pooling):
    torch.manual_seed(0)
    enc = _spec(arch, pooling=pooling, **extra)
    module = enc.build_module().eval()
    stack = enc.build_stack()
    assert stack.n_blocks == enc.depth
    stem, blocks = stack.make_stem(), [stack.make_block(i) for i in range(stack.n_blocks)]
    _copy_state(module, [stem, *blocks])
    for part in (stem, *blocks):
        part.eval()
    batch = _batch(enc)
    with torch.no_grad():
        outputs = _run(stem, blocks, batch)
        tokens = module(batch, pool=False)
        torch.testing.assert_close(outputs[-1], tokens, rtol=0, atol=0)
        torch.testing.assert_close(stack.pool(outputs[-1], batch), module(batch), rtol=0, atol=0)
        torch.testing.assert_close(stack.make_pool()(outputs[-1], batch), module(batch))
        # and the old monolithic network with the same weights
        reference = _reference_tokens(arch, module, batch)
        torch.testing.assert_close(tokens, reference, atol=1e-5, rtol=1e-5)
    for i, h in enumerate(outputs):
        assert h.shape == (4, 9, stack.out_features(i - 1))
        assert h[~batch["mask"]].abs().sum() == 0  # zero at the padded positions
        assert h[batch["mask"]].abs().sum() > 0


def test_bilstm_dropout_is_between_the_layers_only():
    torch.manual_seed(0)
    enc = _spec("bilstm", dropout=0.5)
    stack = enc.build_stack()
    batch = _batch(enc)
    h = stack.make_stem().eval()(batch)
    first, last = stack.make_block(0), stack.make_block(1)
    with torch.no_grad():
        # like nn.LSTM(num_layers=2, dropout=0.5): the first layer's output is dropped out
        assert not torch.equal(first.train()(h, batch), first.eval()(h, batch))
        h = first(h, batch)
        torch.testing.assert_close(last.train()(h, batch), last.eval()(h, batch))


@pytest.mark.parametrize("arch", ARCHS)
def test_text_stack_blocks_stem_and_gates_are_fresh(arch):
    stack = _spec(arch).build_stack((8,))
    _assert_fresh(stack.make_stem)
    for i in range(stack.n_blocks):
        _assert_fresh(lambda i=i: stack.make_block(i))
    _assert_fresh(lambda: stack.make_gate(3, 0, 1))


def test_text_stack_state_dict_sizes_match_the_module():
    for arch in ARCHS:
        enc = _spec(arch, width=15 if arch == "bilstm" else 16)
        module = enc.build_module()
        stack = enc.build_stack()
        parts = [stack.make_stem()] + [stack.make_block(i) for i in range(stack.n_blocks)]
        sizes = [v.shape for part in parts for v in part.state_dict().values()]
        assert sizes == [v.shape for v in module.state_dict().values()]


@pytest.mark.parametrize("normalization", [None, "batch"])
def test_pooled_text_stack_with_dense_blocks_equals_encoder_trunk(normalization):
    torch.manual_seed(0)
    enc = _spec("cnn", pooling="mean+max")
    kwargs = {"activation": "gelu", "normalization": normalization}
    trunk = EncoderTrunk(enc.build_module(), (6, 5), **kwargs)
    stack = enc.build_stack((6, 5), **kwargs)
    assert stack.n_blocks == 4
    stem, blocks = stack.make_stem(), [stack.make_block(i) for i in range(stack.n_blocks)]
    _copy_state(trunk, [stem, *blocks])
    batch = _batch(enc)
    torch.testing.assert_close(_run(stem, blocks, batch)[-1], trunk(batch), rtol=0, atol=0)


def test_text_stack_levels_and_widths():
    enc = _spec("cnn", pooling="mean+max")
    pooled = enc.build_stack((8, 4))
    assert isinstance(pooled, SharedStack)
    assert pooled.n_blocks == 4
    assert [pooled.level(i) for i in range(-1, 4)] == ["token"] * 3 + ["row"] * 2
    assert [pooled.out_features(i) for i in range(-1, 4)] == [16, 16, 16, 8, 4]
    assert [pooled.pooled_features(i) for i in range(-1, 4)] == [32, 32, 32, 8, 4]
    tagger = enc.build_stack((8,), pooled=False)
    assert [tagger.level(i) for i in range(-1, 3)] == ["token"] * 4
    assert [tagger.out_features(i) for i in range(-1, 3)] == [16, 16, 16, 8]
    plain = enc.build_stack()
    assert [plain.level(i) for i in range(-1, 2)] == ["token"] * 3
    odd = _spec("bilstm", width=15, depth=3).build_stack()
    assert [odd.out_features(i) for i in range(-1, 3)] == [15, 16, 16, 15]
    with pytest.raises(ValueError, match="i must be an integer in"):
        pooled.make_block(4)
    with pytest.raises(ValueError, match="encoder_spec"):
        TextStack("cnn")
    with pytest.raises(ValueError, match="architecture"):
        TextStack(TextEncoder(architecture="rnn"))
    assert pickle.loads(pickle.dumps(pooled)).n_blocks == 4


def test_text_stack_outputs_and_gate_shapes_per_level():
    torch.manual_seed(0)
    enc = _spec("cnn", pooling="mean+max")
    stack = enc.build_stack((8,))  # levels: stem, 0, 1 token; 2 row
    batch = _batch(enc)
    outputs = _run(stack.make_stem(), [stack.make_block(i) for i in range(3)], batch)
    assert outputs[-1].shape == (4, 8)
    B, T = batch["mask"].shape
    cases = {
        (-1, 0): (B, T, 5),  # token -> token: per token
        (0, 1): (B, T, 5),
        (1, 2): (B, 5),  # token -> row: pooled first (mean+max: 32 wide)
        (-1, 2): (B, 5),
        (2, 2): (B, 5),  # row -> row
        (2, 1): (B, T, 5),  # row -> token: the row's logits at every position
    }
    for (source, target), shape in cases.items():
        gate = stack.make_gate(5, source, target)
        logits = gate(outputs[source + 1], batch)
        assert logits.shape == shape, (source, target)
    pooled_gate = stack.make_gate(5, 1, 2)
    assert pooled_gate.linear.in_features == 32
    pooled = stack.pool(outputs[2], batch)
    torch.testing.assert_close(pooled_gate(outputs[2], batch), pooled_gate.linear(pooled))
    broadcast = stack.make_gate(5, 2, 1)(outputs[3], batch)
    torch.testing.assert_close(broadcast[:, 3], broadcast[:, 0])
    assert stack.make_gate(5, 1)(outputs[2], batch).shape == (B, 5)  # target: the last block


def test_unpooled_dense_blocks_are_per_token_and_zero_at_padding():
    torch.manual_seed(0)
    enc = _spec("cnn")
    stack = enc.build_stack((6,), normalization="batch", pooled=False)
    batch = _batch(enc)
    stem, blocks = stack.make_stem(), [stack.make_block(i) for i in range(3)]
    outputs = _run(stem, blocks, batch)
    mask = batch["mask"]
    assert outputs[-1].shape == (4, 9, 6)
    assert outputs[-1][~mask].abs().sum() == 0
    # batch norm statistics come from the real tokens only
    expected = blocks[-1].layers(outputs[-2][mask])
    torch.testing.assert_close(outputs[-1][mask], expected)
    gate = stack.make_gate(2, 1, 2)
    assert gate(outputs[2], batch).shape == (4, 9, 2)
    assert stack.pool(outputs[-1], batch).shape == (4, 6)
    assert stack.pool(outputs[-1], batch)[2].abs().sum() == 0  # the empty document


def test_text_stack_static_vectors_stay_in_the_stem(monkeypatch):
    import spacy

    from skmtl.encoders import _text

    def pipeline(name):
        nlp = spacy.blank("en")
        nlp.vocab.set_vector("good", np.arange(6, dtype=np.float32))
        return nlp

    monkeypatch.setattr(_text, "load_tokenizer", pipeline)
    enc = _spec("cnn", tokenizer="fake", static_vectors=True)
    stack = enc.build_stack()
    stem = stack.make_stem()
    assert stem.embed.vectors.shape[1] == 6
    assert not any("vectors" in key for key in stem.state_dict())
    module = enc.build_module()
    assert not any("vectors" in key for key in module.state_dict())
    assert [v.shape for v in stem.state_dict().values()] == [
        v.shape for k, v in module.state_dict().items() if k.startswith("stem.")
    ]
    batch = _batch(enc, ["good film", "bad"])
    assert stem(batch).shape == (2, 2, 16)
