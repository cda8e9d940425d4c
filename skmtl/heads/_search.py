"""Greedy and beam-search decoding, batched: one decoder step for every row and beam.

The only Python loop is over output positions; rows and beams are tensor
dimensions. Beam search keeps ``beam_size`` live hypotheses per row, moves a
hypothesis that ends in EOS to the row's finished best (scored with the GNMT
length penalty ``((5 + length) / 6) ** alpha`` of Wu et al., 2016), and stops
when every row has a finished hypothesis that no live one can still beat, or
at ``max_new_tokens`` (scoring a live hypothesis at its current length, the
heuristic of Hugging Face's default ``early_stopping=False``).
"""

from __future__ import annotations

import torch

__all__ = ["beam_search", "greedy_search"]


def _finish(ids: list[torch.Tensor], eos_id: int) -> torch.Tensor:
    """Stack step outputs ``(B,)`` into ``(B, L)`` with -1 after each row's first EOS."""
    out = torch.stack(ids, 1)
    ended = (out == eos_id).to(torch.int64).cumsum(1)
    after = (ended - (out == eos_id).to(torch.int64)) > 0
    return out.masked_fill(after, -1)


@torch.no_grad()
def greedy_search(decoder, memory, *, bos_id, eos_id, max_new_tokens, task_vector=None):
    """The most probable next subword at each step; ids ``(B, L)``, -1 after EOS."""
    n = len(memory)
    state = decoder.start(memory, task_vector)
    tokens = memory.mask.new_full((n,), bos_id, dtype=torch.int64)
    done = torch.zeros(n, dtype=torch.bool, device=tokens.device)
    ids = []
    for t in range(max_new_tokens):
        logits, state = decoder.step(state, tokens, t)
        tokens = logits.argmax(-1).masked_fill(done, eos_id)
        ids.append(tokens)
        done |= tokens == eos_id
        if bool(done.all()):
            break
    if not ids:
        return tokens.new_zeros((n, 0))
    return _finish(ids, eos_id)


def _penalty(length: torch.Tensor, alpha: float) -> torch.Tensor:
    return ((5.0 + length.to(torch.float32)) / 6.0) ** alpha


@torch.no_grad()
def beam_search(
    decoder,
    memory,
    *,
    bos_id,
    eos_id,
    max_new_tokens,
    beam_size=4,
    length_penalty=1.0,
    task_vector=None,
):
    """Beam search over all rows at once; the best hypothesis per row, ``(B, L)``."""
    n, k = len(memory), int(beam_size)
    if k <= 1:
        return greedy_search(
            decoder,
            memory,
            bos_id=bos_id,
            eos_id=eos_id,
            max_new_tokens=max_new_tokens,
            task_vector=task_vector,
        )
    device = memory.mask.device
    state = decoder.start(memory.repeat(k), task_vector)
    tokens = torch.full((n * k,), bos_id, dtype=torch.int64, device=device)
    scores = torch.full((n, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live hypothesis per row at the start
    seqs = tokens.new_zeros((n * k, 0))
    best = torch.full((n,), float("-inf"), device=device)
    best_seq = torch.full((n, max_new_tokens), -1, dtype=torch.int64, device=device)
    base = torch.arange(n, device=device)[:, None] * k
    for t in range(max_new_tokens):
        logits, state = decoder.step(state, tokens, t)
        logp = torch.log_softmax(logits.float(), -1)
        vocab = logp.shape[-1]
        cand = (scores.view(-1, 1) + logp).view(n, k * vocab)
        top, idx = cand.topk(min(2 * k, k * vocab), dim=1)  # enough to keep k live ones
        beam, word = idx // vocab, idx % vocab
        ends = (word == eos_id) & torch.isfinite(top)
        # Finished hypotheses: the best normalised one per row is kept.
        norm = torch.where(ends, top / _penalty(torch.tensor(t + 1), length_penalty), float("-inf"))
        row_best, which = norm.max(1)
        better = row_best > best
        if bool(better.any()):
            src = (base[:, 0] + beam.gather(1, which[:, None])[:, 0])[better]
            new = torch.full(
                (int(better.sum()), max_new_tokens), -1, dtype=torch.int64, device=device
            )
            new[:, :t] = seqs.index_select(0, src)
            new[:, t] = eos_id
            best_seq[better] = new
            best = torch.where(better, row_best, best)
        # The k best live continuations.
        live = top.masked_fill(ends, float("-inf"))
        scores, pick = live.topk(k, dim=1)
        sel = (base + beam.gather(1, pick)).view(-1)
        tokens = word.gather(1, pick).view(-1)
        seqs = torch.cat([seqs.index_select(0, sel), tokens[:, None]], 1)
        state = decoder.reorder(state, sel, same_source=True)  # beams stay in their row
        # Stop when each row's finished best beats its best live hypothesis scored
        # at the current length (the heuristic of Hugging Face's default search).
        bound = scores.max(1).values / _penalty(torch.tensor(t + 1), length_penalty)
        if bool((best >= bound).all()):
            break
    # Rows that never finished take their best live hypothesis as it stands.
    unfinished = torch.isinf(best)
    if bool(unfinished.any()):
        src = base[:, 0][unfinished] + scores[unfinished].argmax(1)
        part = seqs.index_select(0, src)
        best_seq[unfinished, : part.shape[1]] = part
    width = int((best_seq >= 0).sum(1).max()) if best_seq.numel() else 0
    return best_seq[:, : max(width, 1)]
