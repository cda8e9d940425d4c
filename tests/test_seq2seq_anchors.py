"""The seq2seq benchmark's HF anchor (benchmarks/_seq2seq_anchors.py) learns a toy task."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("transformers", reason="the HF anchor needs transformers (the bench extra)")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _seq2seq_anchors import generate_hf, onmt_status, train_hf  # noqa: E402

PAD, BOS, EOS = 0, 1, 2
SMALL = dict(
    vocab_size=40,
    pad_id=PAD,
    bos_id=BOS,
    eos_id=EOS,
    d_model=32,
    layers=2,
    heads=2,
    ffn_dim=64,
    dropout=0.0,
    batch_size=32,
    lr=3e-3,
    warmup_steps=50,
)


def _reverse_pairs(n, seed):
    rng = np.random.RandomState(seed)
    src = [rng.randint(3, 40, size=rng.randint(2, 6)).tolist() for _ in range(n)]
    return src, [s[::-1] for s in src]


def test_learns_to_reverse_and_keeps_input_order():
    src, tgt = _reverse_pairs(300, 0)
    result = train_hf(src, tgt, max_steps=800, max_seconds=45, **SMALL)
    assert result["steps"] > 0 and result["n_parameters"] > 0
    test_src, test_tgt = _reverse_pairs(60, 1)
    out, seconds = generate_hf(
        result["model"], test_src, bos_id=BOS, eos_id=EOS, pad_id=PAD, batch_size=16
    )
    assert len(out) == len(test_src) and seconds >= 0
    assert np.mean([o == t for o, t in zip(out, test_tgt, strict=True)]) >= 0.8


def test_same_seed_same_weights():
    src, tgt = _reverse_pairs(64, 2)
    a, b = (train_hf(src, tgt, max_steps=3, seed=5, **{**SMALL, "dropout": 0.1}) for _ in "ab")
    for p, q in zip(a["model"].parameters(), b["model"].parameters(), strict=True):
        assert torch.equal(p, q)


def test_needs_a_budget_and_says_why_no_onmt():
    with pytest.raises(ValueError, match="max_steps or max_seconds"):
        train_hf([[3]], [[3]], **SMALL)
    assert "2026-12-01" in onmt_status() and "torch<2.3" in onmt_status()
