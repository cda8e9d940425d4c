"""Task types as objects (skmtl.tasks): round trips, losses, class weights, scores, errors."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score, r2_score

from skmtl import metrics
from skmtl.heads import LinearChainCRF, masked_task_loss
from skmtl.tasks import (
    TASK_TYPES,
    BinaryTask,
    ContinuousTask,
    EncodedTarget,
    MulticlassTask,
    MultilabelTask,
    TaskType,
    TokenCRFTask,
    TokenTask,
    assemble,
    get_task_type,
    infer_task_type,
    resolve_tasks,
    split_targets,
)
from skmtl.utils import is_missing

ROW_TYPES = ("binary", "multiclass", "multilabel", "continuous")

# One small column per type, each with missing cells.
COLUMNS = {
    "binary": np.array(["pos", "neg", None, "pos", "pos", np.nan, "pos", "neg"], dtype=object),
    "multiclass": np.array([0.0, 2.0, np.nan, 1.0, 2.0, 0.0, np.nan, 2.0]),
    "multilabel": [("a", "b"), (), None, ["c"], {"a"}, np.nan, ("b", "c"), ("a",)],
    "continuous": np.array([1.5, -2.0, np.nan, 0.25, 3.0, np.nan, 1.0, -0.5]),
}
SENTENCES = [
    ["B-PER", "I-PER", "O"],
    None,
    ["O", "B-LOC"],
    ["O"],
    ["B-LOC", "I-LOC", "O", "O"],
]
LENGTHS = np.array([3, 2, 2, 1, 4])


def fit(task_type: str):
    column = SENTENCES if task_type in ("token", "token_crf") else COLUMNS[task_type]
    return get_task_type(task_type).from_column("t", column, ["t"]), column


def encode(task, column):
    if task.level == "token":
        return task.encode(column, lengths=LENGTHS, full_lengths=LENGTHS)
    return task.encode(column)


def perfect_prediction(task, enc: EncodedTarget) -> np.ndarray:
    """What ``task.predict`` would give for a head that is always right."""
    if task.is_classification:
        return np.eye(task.n_outputs)[enc.target.clip(min=0)]
    return np.where(enc.target >= 0, enc.target, 0) if task.level == "token" else enc.target


def reference_score(task, target, labelled, output, threshold, sample_weight) -> float:
    """``skmtl.base._default_score`` as it was before the task objects."""
    if not labelled.any():
        return float("nan")
    sw = None if sample_weight is None else sample_weight[labelled]
    if task.is_classification:
        return float(
            accuracy_score(target[labelled], output[labelled].argmax(axis=1), sample_weight=sw)
        )
    if task.type == "multilabel":
        truth = target[labelled] > 0.5
        pred = output[labelled] >= np.asarray(threshold)
        keep = truth.any(axis=0) | pred.any(axis=0)
        if not keep.any():
            return 1.0
        return float(
            f1_score(
                truth[:, keep], pred[:, keep], average="macro", zero_division=0, sample_weight=sw
            )
        )
    return float(r2_score(target[labelled], output[labelled], sample_weight=sw))


def reference_balanced(task, enc) -> np.ndarray:
    """``BaseMultiTaskEstimator._class_weights``'s "balanced" formulas before the task objects."""
    if task.type == "multilabel":
        pos = enc.target[enc.labelled].sum(axis=0)
        neg = enc.labelled.sum() - pos
        return np.where(pos > 0, neg / np.maximum(pos, 1), 1.0)
    counts = np.bincount(enc.target[enc.labelled], minlength=len(task.classes))
    return counts.sum() / (len(task.classes) * np.maximum(counts, 1))


# ---------------------------------------------------------------- registry


def test_registry_order_names_and_protocol():
    assert list(TASK_TYPES) == [*ROW_TYPES, "token", "token_crf", "generation"]
    for name, cls in TASK_TYPES.items():
        if name == "generation":  # needs a tokenizer: tests/test_seq2seq.py
            assert cls.type == name and cls.level == "generation"
            continue
        assert cls.type == name
        assert get_task_type(name) is cls
        task, _ = fit(name)
        assert isinstance(task, TaskType)
        assert task.level == ("token" if name.startswith("token") else "row")
        assert metrics.default_metric(name) == cls.default_metric
    with pytest.raises(ValueError, match=r"Unknown task type 'ordinal'.*'binary'"):
        get_task_type("ordinal")


def test_from_column_picks_binary_or_multiclass_by_class_count():
    assert type(MulticlassTask.from_column("b", ["x", "y", "x"])) is BinaryTask
    three = BinaryTask.from_column("m", ["x", "y", "z"])
    assert type(three) is MulticlassTask and three.n_outputs == 3
    assert three.is_classification and not MultilabelTask.is_classification


# generation needs a tokenizer; its round trip is in tests/test_seq2seq.py.
@pytest.mark.parametrize("task_type", [t for t in TASK_TYPES if t != "generation"])
def test_round_trip_with_missing_cells(task_type):
    task, column = fit(task_type)
    enc = encode(task, column)
    decoded = task.decode(
        perfect_prediction(task, enc), threshold=0.5, lengths=LENGTHS, full_lengths=LENGTHS
    )
    cells = list(column)
    labelled = [i for i, c in enumerate(cells) if not is_missing(c)]
    assert enc.labelled.tolist() == [i in labelled for i in range(len(cells))]
    for i in labelled:
        if task_type == "multilabel":
            assert set(decoded[i]) == set(cells[i])
        elif task_type == "continuous":
            assert decoded[i] == pytest.approx(cells[i])
        else:
            assert decoded[i] == cells[i]
    assert len(labelled) < len(cells)
    again = pickle.loads(pickle.dumps(task))
    assert type(again) is type(task) and repr(again) == repr(task)
    np.testing.assert_array_equal(encode(again, column).target, enc.target)


def test_blocks_round_trip_and_repr():
    rng = np.random.RandomState(0)
    block = rng.normal(size=(6, 3)) * [1, 10, 100] + [0, 5, -5]
    block[2, 1] = np.nan
    cont = ContinuousTask.from_column("vad", block, ["V", "A", "D"])
    enc = cont.encode(block)
    assert cont.block and cont.n_outputs == 3 and not enc.labelled[2]
    decoded = cont.decode(enc.target)[enc.labelled]
    np.testing.assert_allclose(decoded, block[enc.labelled], rtol=1e-5, atol=1e-4)
    ind = (rng.rand(6, 4) > 0.5).astype(float)
    ind[4] = np.nan
    ml = MultilabelTask.from_column("blk", ind)
    pred = ml.decode(ml.encode(ind).target)
    assert ml.block and pred.dtype.kind == "i"
    np.testing.assert_array_equal(pred[[0, 1, 2, 3, 5]], ind[[0, 1, 2, 3, 5]])
    assert repr(cont) == (
        "ContinuousTask(name='vad', columns=['V', 'A', 'D'], n_outputs=3, block=True)"
    )
    many = MulticlassTask.from_column("m", list(range(12)))
    assert repr(many).endswith("classes=[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...], n_outputs=12)")


# ---------------------------------------------------------------- losses


def _batch(task, column, seed=0):
    enc = encode(task, column)
    rng = np.random.RandomState(seed)
    row_weight = rng.uniform(0.5, 2.0, size=len(enc)).astype(np.float32)
    weight = torch.from_numpy(enc.element_weight(row_weight))
    torch.manual_seed(seed)
    output = torch.randn(len(enc.target), task.n_outputs, requires_grad=True)
    return enc, output, torch.from_numpy(enc.target), weight


@pytest.mark.parametrize("task_type", ROW_TYPES)
@pytest.mark.parametrize("balanced", [False, True])
def test_row_loss_equals_masked_task_loss(task_type, balanced):
    task, column = fit(task_type)
    enc, output, target, weight = _batch(task, column)
    cw = task.class_weights("balanced" if balanced else None, enc)
    cw = None if cw is None else torch.from_numpy(cw)
    loss = task.loss(output, target, weight, class_weight=cw)
    expected = masked_task_loss(task_type, output, target, weight, cw)
    assert torch.isfinite(loss) and loss.item() > 0
    torch.testing.assert_close(loss, expected)
    zero = task.loss(output, target, weight * 0, class_weight=cw)
    zero.backward()
    assert zero.item() == 0.0 and torch.all(output.grad == 0)


def test_token_loss_is_mean_cross_entropy_over_labelled_tokens():
    task, column = fit("token")
    enc, output, target, weight = _batch(task, column)
    assert (target < 0).sum() == 2  # sentence 1 is unlabelled
    ones = torch.ones_like(weight)
    expected = masked_task_loss("multiclass", output, target, (target >= 0).float())
    torch.testing.assert_close(task.loss(output, target, ones), expected)
    # ``weight`` from element_weight: each token carries its sentence's weight
    torch.testing.assert_close(
        task.loss(output, target, weight), masked_task_loss("multiclass", output, target, weight)
    )


def _crf_batch(task, head, seed=0):
    enc = encode(task, SENTENCES)
    T = int(LENGTHS.max())
    mask = torch.arange(T)[None, :] < torch.from_numpy(LENGTHS)[:, None]
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in head.parameters():
            p.normal_()
    emissions = head(torch.randn(len(LENGTHS), T, 5), mask)
    return enc, mask, emissions


def test_crf_head_loss_and_viterbi():
    task, _ = fit("token_crf")
    head = task.make_head(5)
    assert isinstance(head.crf, LinearChainCRF)
    assert any(p is head.crf.transitions for p in head.parameters())
    enc, mask, emissions = _crf_batch(task, head)
    assert emissions.shape == (5, 4, task.n_outputs)
    target = torch.from_numpy(enc.target)
    loss = task.loss(emissions, target, torch.ones(len(target)), mask=mask, head=head)
    labelled = torch.from_numpy(enc.labelled)
    tags = torch.full(mask.shape, -1, dtype=torch.long)
    tags[mask] = target
    nll = head.crf.neg_log_likelihood(emissions[labelled], tags[labelled], mask[labelled])
    torch.testing.assert_close(loss, nll.sum() / mask[labelled].sum())
    codes = task.predict(emissions, mask=mask, head=head)
    np.testing.assert_array_equal(codes, head.crf.decode(emissions, mask)[mask].numpy())
    assert codes.shape == (int(LENGTHS.sum()),)
    none = task.loss(emissions, target * 0 - 1, torch.ones(len(target)), mask=mask, head=head)
    assert none.item() == 0.0
    with pytest.raises(ValueError, match="need head="):
        task.loss(emissions, target, torch.ones(len(target)), mask=mask)


def test_crf_transition_mask_is_bio_only_for_bio_tags():
    task, _ = fit("token_crf")
    allowed, start = task.transition_mask()
    labels = task.classes.tolist()
    assert not allowed[labels.index("O"), labels.index("I-PER")]
    assert not start[labels.index("I-LOC")]
    bias = task.make_head(3).crf.decode_bias
    assert bias[labels.index("B-LOC"), labels.index("I-PER")] < -1e3
    plain = TokenCRFTask.from_column("pos", [["DET", "NOUN"], ["VERB"]])
    assert plain.transition_mask() == (None, None)
    assert torch.all(plain.make_head(3).crf.decode_bias == 0)
    converted = TokenCRFTask.from_token_task(fit("token")[0])
    assert converted.type == "token_crf" and converted.classes.tolist() == labels


def test_token_head_gives_flat_logits_in_mask_order():
    task, _ = fit("token")
    head = task.make_head(5)
    rep = torch.randn(2, 3, 5)
    mask = torch.tensor([[True, True, False], [True, False, False]])
    out = head(rep, mask)
    assert out.shape == (3, task.n_outputs)
    torch.testing.assert_close(out[2], head(rep[1:, :1], mask[1:, :1])[0])
    np.testing.assert_array_equal(task.predict(out), out.argmax(1).numpy())


# ---------------------------------------------------------------- class weights and scores


@pytest.mark.parametrize("task_type", ["binary", "multiclass", "multilabel"])
def test_balanced_class_weights_match_the_estimator_formulas(task_type):
    task, column = fit(task_type)
    enc = task.encode(column)
    w = task.class_weights("balanced", enc)
    assert w.dtype == np.float32 and w.shape == (task.n_outputs,)
    np.testing.assert_allclose(w, reference_balanced(task, enc), rtol=1e-6)
    assert not np.allclose(w, 1.0)
    label = task.classes.tolist()[1]
    custom = task.class_weights({label: 3.0}, enc)
    assert custom.tolist() == [3.0 if c == label else 1.0 for c in task.classes.tolist()]
    with pytest.raises(ValueError, match=r"class_weight for task 't' names unknown labels"):
        task.class_weights({"nope": 2.0}, enc)


def test_class_weights_of_continuous_and_token_types():
    cont, column = fit("continuous")
    assert cont.class_weights("balanced", cont.encode(column)) is None
    token, _ = fit("token")
    enc = encode(token, SENTENCES)
    counts = np.bincount(enc.target[enc.target >= 0], minlength=token.n_outputs)
    expected = counts.sum() / (token.n_outputs * counts)
    np.testing.assert_allclose(token.class_weights("balanced", enc), expected, rtol=1e-6)
    crf, _ = fit("token_crf")
    assert crf.class_weights(None, enc) is None
    with pytest.raises(ValueError, match="CRF task takes no class weights"):
        crf.class_weights("balanced", enc)


@pytest.mark.parametrize("task_type", ROW_TYPES)
def test_row_score_equals_the_default_score(task_type):
    task, column = fit(task_type)
    enc = task.encode(column)
    rng = np.random.RandomState(1)
    if task.is_classification or task_type == "multilabel":
        output = rng.rand(len(enc), task.n_outputs)
    else:
        output = enc.target + rng.normal(scale=0.5, size=enc.target.shape)
    sw = rng.uniform(0.5, 2.0, size=len(enc))
    for weights in (None, sw):
        got = task.score(enc, output, sample_weight=weights, threshold=0.4)
        assert got == pytest.approx(
            reference_score(task, enc.target, enc.labelled, output, 0.4, weights)
        )
    assert task.score(enc, perfect_prediction(task, enc)) == pytest.approx(1.0)
    nothing = EncodedTarget(enc.target, np.zeros(len(enc), dtype=bool))
    assert np.isnan(task.score(nothing, output))


def test_token_score_is_token_accuracy_weighted_by_sentence():
    task, _ = fit("token")
    enc = encode(task, SENTENCES)
    pred = np.where(enc.target >= 0, enc.target, 0)
    pred[0] = (pred[0] + 1) % task.n_outputs  # one wrong token of 10 labelled
    assert task.score(enc, pred) == pytest.approx(9 / 10)
    sw = np.array([3.0, 1.0, 1.0, 1.0, 1.0])  # sentence 0 (3 tokens, 1 wrong) weighs 3
    assert task.score(enc, pred, sample_weight=sw) == pytest.approx((2 * 3 + 7) / (3 * 3 + 7))


# ---------------------------------------------------------------- token encoding


def test_token_encode_flat_codes_offsets_and_truncation():
    task, _ = fit("token")
    full = LENGTHS
    kept = np.minimum(full, 2)
    enc = task.encode(SENTENCES, lengths=kept, full_lengths=full)
    assert enc.offsets.tolist() == [0, 2, 4, 6, 7, 9]
    assert enc.target[2:4].tolist() == [-1, -1]
    assert task.classes[enc.target[7:9]].tolist() == ["B-LOC", "I-LOC"]
    decoded = task.decode(enc.target.clip(min=0), lengths=kept, full_lengths=full)
    assert [len(t) for t in decoded] == full.tolist()
    assert decoded[4] == ["B-LOC", "I-LOC", "O", "O"]  # "O" is the most frequent tag
    assert task.classes[task.majority] == "O"


@pytest.mark.parametrize(
    "cells, match",
    [
        ([["O"], ["O", "O"]], r"Y\['t'\]\[1\] has 2 tags but sentence X\[1\] has 3 tokens"),
        (["O", ["O", "O", "O"]], r"Y\['t'\]\[0\] is a str, but 't' is a token-level task"),
        ([["O"], ["O", None, "O"]], r"Y\['t'\]\[1\]\[1\] is a missing tag"),
    ],
)
def test_token_encode_errors_name_the_row(cells, match):
    task = TokenTask.from_column("t", [["O", "B-LOC"]])
    with pytest.raises(ValueError, match=match):
        task.encode(cells, lengths=[1, 3], full_lengths=[1, 3])


def test_token_unseen_tags_and_missing_lengths():
    task = TokenTask.from_column("t", [["O", "B-LOC"]])
    enc = task.encode([["O", "B-ORG"]], lengths=[2])
    assert enc.target.tolist() == [task.classes.tolist().index("O"), -1]
    with pytest.raises(ValueError, match=r"Task 't' has labels never seen in fit: \['B-ORG'\]"):
        task.encode([["O", "B-ORG"]], lengths=[2], check_unseen=True)
    with pytest.raises(ValueError, match="needs lengths="):
        task.encode([["O"]])
    with pytest.raises(ValueError, match="Task 't' has no labelled sentence"):
        TokenTask.from_column("t", [None, np.nan])


# ---------------------------------------------------------------- inference


def test_infer_task_type():
    assert infer_task_type([1.0, np.nan, 0.0]) == "binary"
    assert infer_task_type(pd.Series(["a", None, "b", "c"])) == "multiclass"
    assert infer_task_type([("a",), (), None]) == "multilabel"
    assert infer_task_type([("a",), (), None], sequence=True) == "token"
    assert infer_task_type(["x", "y", None], sequence=True) == "binary"
    assert infer_task_type(np.array([[0.5, 1], [2, 3]])) == "continuous"
    assert infer_task_type(np.array([[0, 1], [1, 1], [0, 0]])) == "multilabel"
    with pytest.raises(ValueError, match=r"Task 'ner': mixes tag lists and other labels"):
        infer_task_type([["O"], "O"], sequence=True, name="ner")
    with pytest.raises(ValueError, match=r"Task 'e' has no labelled rows"):
        infer_task_type([None, np.nan], name="e")
    with pytest.raises(ValueError, match=r"Task 'm': labels mix types \(int, str\)"):
        infer_task_type([1, "a", 2], name="m")
    assert metrics.infer_task_type is infer_task_type


def test_metrics_accept_token_types_and_the_sequence_alias():
    y_true = [["B-PER", "I-PER", "O"], None]
    y_pred = [["B-PER", "O", "O"], ["O"]]
    for task_type in ("token", "token_crf", "sequence", None):
        assert metrics.task_score(y_true, y_pred, "token_accuracy", task_type) == 2 / 3
    assert metrics.default_metric("sequence") == "token_accuracy"
    with pytest.raises(ValueError, match=r"'accuracy' does not apply to a 'token' task"):
        metrics.task_score(y_true, y_pred, "accuracy", task_type="token")
    report = metrics.task_report({"ner": y_true}, {"ner": y_pred}, task_types={"ner": "token"})
    assert "span_f1" in report and "token" in report


# ---------------------------------------------------------------- targets and fixes


def test_resolve_tasks_builds_task_objects_and_token_tasks():
    Y = pd.DataFrame({"pos": SENTENCES, "doc": ["a", "b", None, "a", "b"]})
    layout, columns = split_targets(Y)
    tasks, raw = resolve_tasks(layout, columns, None, None, None, "Tagger", sequence=True)
    assert [type(t) for t in tasks] == [TokenTask, BinaryTask]
    crf, _ = resolve_tasks(layout, columns, {"pos": "token_crf"}, None, None, "T", sequence=True)
    assert type(crf[0]) is TokenCRFTask
    with pytest.raises(ValueError, match=r"type 'token' is not handled by E"):
        resolve_tasks(layout, columns, {"pos": "token"}, ROW_TYPES, None, "E")


def test_fix_a_keys_with_the_same_str_are_not_merged():
    with pytest.raises(ValueError, match=r"Y's keys 1 and '1' both give the task name '1'"):
        split_targets({1: [0, 1, 0], "1": [1, 0, 1]})
    with pytest.raises(ValueError, match=r"Y's columns 1 and '1'"):
        split_targets(pd.DataFrame({1: [0, 1], "1": [1, 0]}))
    layout, columns = split_targets({"1": [0, 1, 0]})
    with pytest.raises(ValueError, match=r"`tasks` keys 1 and '1'"):
        resolve_tasks(layout, columns, {1: "binary", "1": "continuous"}, ROW_TYPES, None, "E")


@pytest.mark.parametrize("hole", [np.nan, None, pd.NA])
def test_fix_b_missing_value_inside_a_label_set_is_an_error(hole):
    cells = [(1, 2), (1, hole), (2,)]
    with pytest.raises(ValueError, match=r"Task 'tags', row 1: the label set .* missing value"):
        MultilabelTask.from_column("tags", cells)
    layout, columns = split_targets({"tags": cells})
    with pytest.raises(ValueError, match=r"Task 'tags', row 1"):
        resolve_tasks(layout, columns, None, ROW_TYPES, None, "E")
    task = MultilabelTask.from_column("tags", [(1, 2), (2,)])
    with pytest.raises(ValueError, match=r"Task 'tags', row 0: the label set"):
        task.encode([(hole,), (1,)])


def test_fix_c_label_lists_as_single_labels_give_a_clear_error():
    Y = pd.DataFrame({"a": [["x"], ["y"], ["x", "y"]]})
    layout, columns = split_targets(Y)
    with pytest.raises(ValueError, match=r"Task 'a', row 0: a multiclass task takes one label"):
        resolve_tasks(layout, columns, {"a": "multiclass"}, ROW_TYPES, None, "E")
    task = BinaryTask.from_column("b", ["x", "y"])
    with pytest.raises(ValueError, match=r"Task 'b', row 1: a binary task takes one label"):
        task.encode(np.array(["x", ["y"]], dtype=object))


def test_fix_d_assemble_keeps_the_frame_index():
    Y = pd.DataFrame({"s": ["a", "b", "a"], "v": [1.0, 2.5, 3.0]}, index=[10, 20, 30])
    layout, columns = split_targets(Y)
    tasks, _ = resolve_tasks(layout, columns, None, ROW_TYPES, None, "E")
    outputs = {"s": np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), "v": np.zeros((3, 1))}
    decoded = {t.name: t.decode(outputs[t.name], threshold=0.5) for t in tasks}
    pred = assemble(layout, tasks, decoded, index=Y.index)
    assert pred.index.tolist() == [10, 20, 30]
    assert pred["s"].tolist() == ["a", "b", "a"]
    assert pred["v"].tolist() == pytest.approx([Y["v"].mean()] * 3)
    assert assemble(layout, tasks, decoded).index.tolist() == [0, 1, 2]
