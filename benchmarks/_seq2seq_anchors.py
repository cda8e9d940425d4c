"""Anchors for the seq2seq benchmark: what a user would train instead of skmtl.

The benchmark (``bench_seq2seq.py``) trains one sentencepiece model and hands
every system the same integer id sequences and special ids, and the same
training budget (steps and/or seconds). This module trains the anchors on them:

* :func:`train_hf` / :func:`generate_hf`: a Hugging Face ``transformers``
  encoder-decoder built **from scratch** from a config (``MarianConfig`` +
  ``MarianMTModel``: sinusoidal positions, post-norm layers, one embedding
  matrix shared by encoder, decoder and output layer). Nothing is downloaded.
* OpenNMT-py: not used; :func:`onmt_status` returns the recorded reason.

Sequences are plain lists of ints **without** special ids: the source gets
``eos`` appended (not added twice if already there), the decoder reads
``[bos] + target`` and learns to emit ``target + [eos]`` (a leading ``bos`` or
trailing ``eos`` already on a target is dropped first). ``pad_id`` only pads.

The scripts run as ``python benchmarks/<script>.py``, so this folder is on
``sys.path``: ``from _seq2seq_anchors import train_hf, generate_hf``.
``transformers`` is imported only inside the functions (install the ``bench``
extra).
"""

from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = ["ONMT_STATUS", "generate_hf", "onmt_status", "train_hf"]

ONMT_STATUS = (
    "2026-12-01: OpenNMT-py not used. `pip install OpenNMT-py` (3.5.1, the newest; in a "
    "throwaway venv, Python 3.11.7) requires torch<2.3 ('Collecting torch<2.3,>=2.1 (from "
    "OpenNMT-py)'), so it does not run on the benchmark's torch 2.13 and pip fetched "
    "'Downloading torch-2.2.2-cp311-cp311-manylinux1_x86_64.whl (755.6 MB)' plus its CUDA 12.1 "
    "wheels (nvidia-cudnn-cu12 731.7 MB, nvidia-cublas-cu12 410.6 MB, ...: about 2.8 GB "
    "downloaded, 5.5 GB installed) and numpy 2.4.6, with which torch 2.2.2 warns 'A module "
    "that was compiled using NumPy 1.x cannot be run in NumPy 2.4.6 as it may crash.' "
    "`onmt_train -h` did run there, but a different torch (2.2 CUDA build) would confound "
    "the speed comparison and the install is GBs of CUDA on a CPU machine, so it was stopped "
    "there. pip reported no error; the line above is the exact pip line that ended the try."
)


def onmt_status() -> str:
    """Why OpenNMT-py is not one of the anchors (recorded on 2026-12-01).

    Returns
    -------
    str
        The reason, with the pip lines that decided it (:data:`ONMT_STATUS`).
    """
    return ONMT_STATUS


# --------------------------------------------------------------------------- data
def _source(ids: Sequence[int], eos_id: int) -> list[int]:
    ids = [int(i) for i in ids]
    return ids if ids and ids[-1] == eos_id else ids + [eos_id]


def _target(ids: Sequence[int], bos_id: int, eos_id: int) -> list[int]:
    ids = [int(i) for i in ids]
    if ids and ids[0] == bos_id:
        ids = ids[1:]
    if ids and ids[-1] == eos_id:
        ids = ids[:-1]
    return ids


def _pad(rows: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    out = torch.full((len(rows), max(len(r) for r in rows)), value, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.as_tensor(r, dtype=torch.long)
    return out


def _length_batches(
    src_lengths: np.ndarray, batch_size: int, rng: np.random.RandomState, chunk_batches: int = 50
) -> list[np.ndarray]:
    """One epoch of length-bucketed batches, as skmtl's ``LengthGroupedBatches``.

    The rows are shuffled, cut into chunks of ``chunk_batches`` batches, sorted
    by source length within each chunk and cut into batches; the batches are
    then shuffled.
    """
    rows = rng.permutation(src_lengths.size)
    chunk = batch_size * chunk_batches
    batches = []
    for a in range(0, rows.size, chunk):
        part = rows[a : a + chunk]
        part = part[np.argsort(src_lengths[part], kind="stable")]
        batches.extend(part[b : b + batch_size] for b in range(0, part.size, batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


# --------------------------------------------------------------------------- HF
def build_hf_model(
    *,
    vocab_size: int,
    pad_id: int,
    bos_id: int,
    eos_id: int,
    d_model: int = 256,
    layers: int = 3,
    heads: int = 4,
    ffn_dim: int = 1024,
    dropout: float = 0.1,
    max_positions: int = 512,
):
    """A randomly initialised ``MarianMTModel`` of the given size (no download).

    Parameters
    ----------
    vocab_size, pad_id, bos_id, eos_id : int
        The shared vocabulary and its special ids; ``bos_id`` is the
        ``decoder_start_token_id``.
    d_model, layers, heads, ffn_dim : int
        Width, encoder and decoder depth (``layers`` each), attention heads and
        feed-forward width.
    dropout : float
        Dropout on residual branches, attention weights and feed-forward
        activations (as ``torch.nn.TransformerEncoderLayer`` uses its one rate).
    max_positions : int
        Rows of the (fixed, sinusoidal) position tables.

    Returns
    -------
    transformers.MarianMTModel
        ReLU feed-forward layers, embeddings scaled by ``sqrt(d_model)``, one
        embedding matrix shared by encoder, decoder and the output layer.
    """
    from transformers import MarianConfig, MarianMTModel

    config = MarianConfig(
        vocab_size=vocab_size,
        decoder_vocab_size=vocab_size,
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=ffn_dim,
        decoder_ffn_dim=ffn_dim,
        activation_function="relu",
        dropout=dropout,
        attention_dropout=dropout,
        activation_dropout=dropout,
        encoder_layerdrop=0.0,
        decoder_layerdrop=0.0,
        max_position_embeddings=max_positions,
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
        pad_token_id=pad_id,
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        decoder_start_token_id=bos_id,
        forced_eos_token_id=None,
    )
    return MarianMTModel(config)


def _n_parameters(model: torch.nn.Module) -> int:
    """Trainable parameters, each shared tensor once (the position tables are fixed)."""
    seen = {id(p): p for p in model.parameters() if p.requires_grad}
    return int(sum(p.numel() for p in seen.values()))


def train_hf(
    src_ids: Sequence[Sequence[int]],
    tgt_ids: Sequence[Sequence[int]],
    *,
    vocab_size: int,
    pad_id: int,
    bos_id: int,
    eos_id: int,
    d_model: int = 256,
    layers: int = 3,
    heads: int = 4,
    ffn_dim: int = 1024,
    dropout: float = 0.1,
    label_smoothing: float = 0.1,
    batch_size: int = 64,
    lr: float = 5e-4,
    warmup_steps: int = 400,
    max_steps: int | None = None,
    max_seconds: float | None = None,
    seed: int = 0,
    device: str = "cpu",
    log: Callable[[str], None] | None = None,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
    log_every: int = 100,
) -> dict:
    """Train a Hugging Face ``MarianMTModel`` from scratch on id sequences.

    Parameters
    ----------
    src_ids, tgt_ids : sequence of sequence of int
        Source and target id lists, one pair per row, without special ids
        (``eos`` is appended to sources not ending with it; a target's leading
        ``bos`` / trailing ``eos`` are dropped, then the decoder reads
        ``[bos] + target`` and learns ``target + [eos]``). Not truncated.
    vocab_size, pad_id, bos_id, eos_id : int
        The shared vocabulary (sentencepiece ids) and its special ids.
    d_model, layers, heads, ffn_dim : int, default=256, 3, 4, 1024
        Width, encoder and decoder depth (``layers`` each), heads, feed-forward width.
    dropout : float, default=0.1
    label_smoothing : float, default=0.1
        Of the token-level cross-entropy (``torch.nn.functional.cross_entropy``,
        mean over the batch's target tokens, padding ignored).
    batch_size : int, default=64
        Sentence pairs per batch; batches group sources of similar length
        (chunks of 50 batches sorted by length, batch order shuffled each epoch).
    lr : float, default=5e-4
        Peak AdamW rate, reached linearly after ``warmup_steps``, then decayed as
        ``lr * sqrt(warmup_steps / step)`` (skmtl's ``WarmupInverseSqrt``).
    warmup_steps : int, default=400
    max_steps : int, default=None
    max_seconds : float, default=None
        Stop before the step that would start after this many seconds (counted
        from the call, model construction included). At least one of
        ``max_steps`` / ``max_seconds`` is required; the first reached stops.
    seed : int, default=0
        Seeds initialisation, batch order and dropout: with ``max_steps`` (and
        no ``max_seconds`` cut) the result is reproducible on the CPU.
    device : str, default="cpu"
    log : callable, default=None
        Called with a progress line every ``log_every`` steps and at the end.
    weight_decay : float, default=0.0
        AdamW's (betas and eps are torch's defaults, as in skmtl).
    clip_norm : float, default=None
        Clip the gradient norm to this value (None: no clipping, as skmtl).
    log_every : int, default=100

    Returns
    -------
    dict
        ``model`` (the trained ``MarianMTModel``, in eval mode, on ``device``),
        ``steps`` (optimiser steps taken), ``epochs`` (passes over the data,
        fractional), ``train_seconds`` (wall time of the call after input
        checks), ``n_parameters`` (trainable parameters, shared ones once),
        ``peak_rss_mb`` (the process's peak resident memory so far, MiB: it
        includes whatever the process did before), ``final_loss`` (mean
        training loss of the last ``log_every`` steps).
    """
    if max_steps is None and max_seconds is None:
        raise ValueError("give max_steps or max_seconds (or both): the training budget.")
    if len(src_ids) != len(tgt_ids) or not len(src_ids):
        raise ValueError(
            f"need as many sources as targets (>0), got {len(src_ids)}/{len(tgt_ids)}."
        )
    start = time.perf_counter()
    src = [_source(s, eos_id) for s in src_ids]
    tgt = [_target(t, bos_id, eos_id) for t in tgt_ids]
    longest = max(max(len(s) for s in src), max(len(t) for t in tgt) + 1)

    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    model = build_hf_model(
        vocab_size=vocab_size,
        pad_id=pad_id,
        bos_id=bos_id,
        eos_id=eos_id,
        d_model=d_model,
        layers=layers,
        heads=heads,
        ffn_dim=ffn_dim,
        dropout=dropout,
        max_positions=max(512, longest),
    ).to(device)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    w = max(int(warmup_steps), 1)

    def factor(step: int) -> float:  # 1-based, as skmtl.engine.WarmupInverseSqrt
        if warmup_steps and step < w:
            return step / w
        return math.sqrt(w / max(step, 1)) if warmup_steps else 1.0 / math.sqrt(step)

    src_lengths = np.array([len(s) for s in src])
    steps, rows_seen, recent = 0, 0, []
    done = False
    while not done:
        for batch in _length_batches(src_lengths, int(batch_size), rng):
            if max_steps is not None and steps >= max_steps:
                done = True
                break
            if max_seconds is not None and time.perf_counter() - start >= max_seconds:
                done = True
                break
            input_ids = _pad([src[i] for i in batch], pad_id).to(device)
            labels = _pad([tgt[i] + [eos_id] for i in batch], -100).to(device)
            decoder_input_ids = _pad([[bos_id] + tgt[i] for i in batch], pad_id).to(device)
            logits = model(
                input_ids=input_ids,
                attention_mask=(input_ids != pad_id).long(),
                decoder_input_ids=decoder_input_ids,
                decoder_attention_mask=(labels != -100).long(),
                use_cache=False,
            ).logits
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.size(-1)),
                labels.reshape(-1),
                ignore_index=-100,
                label_smoothing=label_smoothing,
            )
            for g in optimizer.param_groups:
                g["lr"] = lr * factor(steps + 1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, clip_norm)
            optimizer.step()
            steps += 1
            rows_seen += len(batch)
            recent = (recent + [float(loss.detach())])[-log_every:]
            if log is not None and steps % log_every == 0:
                rate = optimizer.param_groups[0]["lr"]
                elapsed = time.perf_counter() - start
                log(f"step {steps} loss {np.mean(recent):.4f} lr {rate:.2e} {elapsed:.1f}s")
    seconds = time.perf_counter() - start
    model.eval()
    final_loss = float(np.mean(recent)) if recent else float("nan")
    if log is not None:
        log(f"done: {steps} steps, loss {final_loss:.4f}, {seconds:.1f}s")
    return {
        "model": model,
        "steps": steps,
        "epochs": rows_seen / len(src),
        "train_seconds": seconds,
        "n_parameters": _n_parameters(model),
        "peak_rss_mb": _peak_rss_mb(),
        "final_loss": final_loss,
    }


def generate_hf(
    model,
    src_ids: Sequence[Sequence[int]],
    *,
    bos_id: int,
    eos_id: int,
    pad_id: int,
    beam_size: int = 1,
    max_new_tokens: int = 64,
    length_penalty: float = 1.0,
    batch_size: int = 64,
) -> tuple[list[list[int]], float]:
    """Decode id sequences with ``model.generate``, batched by source length.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        An encoder-decoder, e.g. ``train_hf(...)["model"]``.
    src_ids : sequence of sequence of int
        Sources as for :func:`train_hf` (``eos`` appended if missing).
    bos_id, eos_id, pad_id : int
        Decoding starts from ``bos_id`` and stops at ``eos_id``; ``pad_id``
        pads the batches and is never generated.
    beam_size : int, default=1
        1: greedy; otherwise beam search (``num_beams``, HF's default
        ``early_stopping=False``).
    max_new_tokens : int, default=64
        Most ids generated per source (``eos`` included).
    length_penalty : float, default=1.0
        HF's: beam scores are divided by ``length ** length_penalty`` (not the
        GNMT ``((5 + length) / 6) ** alpha`` that skmtl uses). Beam search only.
    batch_size : int, default=64
        Sources per ``generate`` call; they are sorted by length first.

    Returns
    -------
    outputs : list of list of int
        One id list per source, in input order, without ``bos``, ``eos`` or padding.
    seconds : float
        Wall time of the decoding (batching included).
    """
    from transformers import GenerationConfig

    config = GenerationConfig(
        num_beams=int(beam_size),
        do_sample=False,
        max_new_tokens=int(max_new_tokens),
        length_penalty=float(length_penalty),
        decoder_start_token_id=bos_id,
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        suppress_tokens=[pad_id],
        num_return_sequences=1,
    )
    device = next(model.parameters()).device
    src = [_source(s, eos_id) for s in src_ids]
    order = sorted(range(len(src)), key=lambda i: len(src[i]))
    outputs: list[list[int]] = [[] for _ in src]
    was_training = model.training
    model.eval()
    start = time.perf_counter()
    with torch.inference_mode():
        for a in range(0, len(order), int(batch_size)):
            rows = order[a : a + int(batch_size)]
            input_ids = _pad([src[i] for i in rows], pad_id).to(device)
            out = model.generate(
                input_ids=input_ids,
                attention_mask=(input_ids != pad_id).long(),
                generation_config=config,
            ).tolist()
            for i, seq in zip(rows, out, strict=True):
                seq = seq[1:] if seq and seq[0] == bos_id else seq
                if eos_id in seq:
                    seq = seq[: seq.index(eos_id)]
                outputs[i] = [t for t in seq if t != pad_id]
    seconds = time.perf_counter() - start
    model.train(was_training)
    return outputs, seconds
