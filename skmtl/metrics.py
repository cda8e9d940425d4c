"""Per-task metrics, reports and scorers for multi-task targets.

A multi-task target ``Y`` is one of

* a 2-D :class:`numpy.ndarray` of shape ``(n_samples, n_tasks)``; task names
  are the column indices as strings (``"0"``, ``"1"``, ...),
* a :class:`pandas.DataFrame`; task name is ``str(column_label)``,
* a ``dict`` ``{task_name: 1-D or 2-D array}``.

Missing labels (``NaN``, ``None``, ``pd.NA``) are data: a missing ``y_true``
cell is skipped by that task's metric only. Predictions are never missing.

Task types are those of :data:`skmtl.tasks.TASK_TYPES`, the vocabulary the
estimators use: ``"binary"``, ``"multiclass"``, ``"multilabel"`` (each cell is
a list / tuple / set of labels, an empty one meaning "no label applies"),
``"continuous"`` (a float cell, or a 2-D float block for a dict value), and
the tag-sequence types ``"token"`` and ``"token_crf"`` (each cell is the list
of a sentence's tags, as :class:`~skmtl.MultiTaskTagger` takes and predicts
them; ``"sequence"`` is an alias). A tag-sequence task is never inferred (its
cells look like label sets): the sequence metrics ``token_accuracy`` and
``span_precision`` / ``span_recall`` / ``span_f1`` (strict IOB2 entity spans,
micro-averaged, as seqeval's strict mode) imply it. A task's default metric
is its task class's ``default_metric``; :func:`infer_task_type` is
:func:`skmtl.tasks.infer_task_type`.

A ``"generation"`` task (:class:`skmtl.tasks.GenerationTask`) has one target
text per row (a str, or a tuple / list of reference strs, or missing). It is
never inferred either (its texts look like class labels): the generation
metrics ``bleu``, ``chrf`` (corpus-level, by sacrebleu) and ``rouge1`` /
``rouge2`` / ``rougeL`` (per-row F-measure by rouge-score, averaged) imply it.
Like every skmtl score they lie in 0-1: multiply by 100 for sacrebleu's scale.
They need the optional packages of ``pip install 'skmtl[seq2seq]'``, imported
only when such a metric is computed.
"""

from __future__ import annotations

import functools
import importlib
import numbers
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import pearsonr
from sklearn.metrics import accuracy_score, f1_score, make_scorer, r2_score
from sklearn.preprocessing import MultiLabelBinarizer

from skmtl._spans import span_scores, spans, token_accuracy
from skmtl.tasks import TASK_TYPES as _REGISTRY
from skmtl.tasks import get_task_type, infer_task_type
from skmtl.utils import is_missing, missing_mask

__all__ = [
    "DEFAULT_METRICS",
    "METRICS",
    "REPORT_METRICS",
    "TASK_TYPES",
    "corpus_bleu",
    "corpus_bleu_ids",
    "default_metric",
    "infer_task_type",
    "make_task_scorer",
    "multitask_scorers",
    "span_scores",
    "spans",
    "task_report",
    "task_score",
    "task_scores",
    "token_accuracy",
    "tune_thresholds",
]

#: Old task-type names still understood here: ``"sequence"`` is ``"token"``.
TYPE_ALIASES: dict[str, str] = {"sequence": "token"}

#: The task types understood here (the registry's names at import, and the aliases).
TASK_TYPES: tuple[str, ...] = (*_REGISTRY, *TYPE_ALIASES)

#: The metrics of tag-sequence tasks; each implies a tag-sequence task type.
SEQUENCE_METRICS: tuple[str, ...] = ("token_accuracy", "span_precision", "span_recall", "span_f1")

#: The metrics of text-generation tasks; each implies the ``"generation"`` task type.
#: ``bleu`` and ``chrf`` are corpus-level, the ROUGE F-measures a mean over rows.
GENERATION_METRICS: tuple[str, ...] = ("bleu", "chrf", "rouge1", "rouge2", "rougeL")

#: Every metric name understood by :func:`task_score`, in report column order.
METRICS: tuple[str, ...] = (
    "accuracy",
    "f1_samples",
    "f1_macro",
    "f1_micro",
    "r2",
    "pearson",
    *SEQUENCE_METRICS,
    *GENERATION_METRICS,
)

#: The metric used for a task when none is requested: the ``default_metric`` of
#: each row-level task class, and of tag sequences (``"sequence"``; the token-level
#: types, and ``"generation"`` (``"chrf"``), give theirs through :func:`default_metric`).
DEFAULT_METRICS: dict[str, str] = {
    **{name: cls.default_metric for name, cls in _REGISTRY.items() if cls.level == "row"},
    "sequence": _REGISTRY["token"].default_metric,
}

#: The metrics shown by :func:`task_report` when none are requested.
REPORT_METRICS: dict[str, tuple[str, ...]] = {
    "binary": ("accuracy", "f1_macro", "f1_micro"),
    "multiclass": ("accuracy", "f1_macro", "f1_micro"),
    "multilabel": ("f1_samples", "f1_macro", "f1_micro"),
    "continuous": ("r2", "pearson"),
    "token": SEQUENCE_METRICS,
    "token_crf": SEQUENCE_METRICS,
    "sequence": SEQUENCE_METRICS,
    "generation": GENERATION_METRICS,
}

# Which metric applies to which task type. ``accuracy`` on a multilabel task
# is sklearn's subset accuracy (exact match of the whole label set).
_VALID_TYPES: dict[str, frozenset[str]] = {
    "accuracy": frozenset({"binary", "multiclass", "multilabel"}),
    "f1_macro": frozenset({"binary", "multiclass", "multilabel"}),
    "f1_micro": frozenset({"binary", "multiclass", "multilabel"}),
    "f1_samples": frozenset({"multilabel"}),
    "r2": frozenset({"continuous"}),
    "pearson": frozenset({"continuous"}),
    **{metric: frozenset({"token", "token_crf", "sequence"}) for metric in SEQUENCE_METRICS},
    **{metric: frozenset({"generation"}) for metric in GENERATION_METRICS},
}

MetricSpec = str | Sequence[str] | Mapping[str, str | Sequence[str]] | None


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


def _check_metric(metric: str) -> str:
    if not isinstance(metric, str) or metric not in _VALID_TYPES:
        raise ValueError(f"Unknown metric {metric!r}; expected one of {list(METRICS)}.")
    return metric


def _check_task_type(task_type: str) -> str:
    if not isinstance(task_type, str) or (
        task_type not in _REGISTRY and task_type not in TYPE_ALIASES
    ):
        known = [*_REGISTRY, *TYPE_ALIASES]
        raise ValueError(f"Unknown task type {task_type!r}; expected one of {known}.")
    return task_type


def _task_class(task_type: str):
    """The task class of a (checked) type name or alias."""
    return get_task_type(TYPE_ALIASES.get(task_type, task_type))


def _is_sequence_type(task_type: str) -> bool:
    """Whether a (checked) task type is one of tag sequences (a token-level type)."""
    return _task_class(task_type).level == "token"


def _is_generation_type(task_type: str) -> bool:
    """Whether a (checked) task type is one of target texts (a generation-level type)."""
    return _task_class(task_type).level == "generation"


def _applies(metric: str, task_type: str) -> bool:
    """Whether ``metric`` scores a (checked) ``task_type``.

    The table :data:`_VALID_TYPES`, plus, for a task type registered in
    :data:`skmtl.tasks.TASK_TYPES` later, its class's ``default_metric`` (and the
    sequence metrics for a token-level one, the generation metrics for a
    generation-level one).
    """
    if task_type in _VALID_TYPES[metric]:
        return True
    if task_type in TYPE_ALIASES or any(task_type in v for v in _VALID_TYPES.values()):
        return False  # a built-in type: the table is complete
    cls = _task_class(task_type)
    return (
        metric == cls.default_metric
        or (metric in SEQUENCE_METRICS and cls.level == "token")
        or (metric in GENERATION_METRICS and cls.level == "generation")
    )


def _as_array(column: Any) -> np.ndarray:
    """One task's column as an array; multilabel cells stay whole objects."""
    if hasattr(column, "to_numpy"):  # pandas Series / DataFrame
        numpy_dtype = isinstance(getattr(column, "dtype", None), np.dtype)
        return column.to_numpy() if numpy_dtype else column.to_numpy(dtype=object)
    if isinstance(column, np.ndarray):
        return column
    cells = list(column)
    arr = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):  # element-wise: keeps equal-length tuples whole
        arr[i] = cell
    return arr


def _densify(values: np.ndarray) -> np.ndarray:
    """Give an object array of scalar labels a proper dtype when it is uniform."""
    if values.dtype != object or values.ndim != 1 or values.size == 0:
        return values
    items = values.tolist()
    if all(isinstance(v, str) for v in items):
        return np.array(items, dtype=str)
    if all(isinstance(v, (numbers.Number, np.bool_)) for v in items):
        return np.array(items)
    return values


def _is_noninteger_float(values: np.ndarray) -> bool:
    values = _densify(values)
    if values.dtype.kind not in "fc" or values.size == 0:
        return False
    finite = values[np.isfinite(values)]
    return bool(np.any(finite != np.round(finite)))


# --------------------------------------------------------------------------
# task types
# --------------------------------------------------------------------------


def _infer_pair(y_true: Any, y_pred: Any) -> str:
    """Infer from y_true; integral floats with non-integral predictions are continuous."""
    task_type = infer_task_type(y_true)
    if task_type in ("binary", "multiclass"):
        pred = _as_array(y_pred)
        if pred.ndim == 1 and _is_noninteger_float(pred):
            true = _densify(_as_array(y_true)[~missing_mask(y_true)])
            if true.dtype.kind in "fiub":
                return "continuous"
    return task_type


def default_metric(task_type: str) -> str:
    """Return the default metric name for a task type.

    Parameters
    ----------
    task_type : str
        A name of :data:`skmtl.tasks.TASK_TYPES` (``"binary"``, ``"multiclass"``,
        ``"multilabel"``, ``"continuous"``, ``"token"``, ``"token_crf"``,
        ``"generation"``) or the alias ``"sequence"``.

    Returns
    -------
    metric : str
        The ``default_metric`` of the type's task class (``"chrf"`` for a
        generation task).

    Examples
    --------
    >>> from skmtl.metrics import default_metric
    >>> default_metric("multilabel"), default_metric("continuous"), default_metric("token")
    ('f1_macro', 'r2', 'token_accuracy')
    """
    return _task_class(_check_task_type(task_type)).default_metric


# --------------------------------------------------------------------------
# one task
# --------------------------------------------------------------------------


def _binarize(true_cells: np.ndarray, pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Indicator matrices for multilabel cells, on the union of seen labels."""
    pred_arr = _as_array(pred)
    if true_cells.ndim == 2 or pred_arr.ndim == 2:
        if true_cells.ndim != 2 or pred_arr.ndim != 2 or true_cells.shape != pred_arr.shape:
            raise ValueError(
                "Multilabel y_true and y_pred must both be label collections or both be "
                "indicator matrices of the same shape."
            )
        return np.asarray(true_cells, dtype=int), np.asarray(pred_arr, dtype=int)
    true_list = list(true_cells)  # missing rows were already dropped
    pred_list = [() if is_missing(c) else c for c in pred_arr]
    labels = list(
        dict.fromkeys(label for cells in (true_list, pred_list) for cell in cells for label in cell)
    )
    mlb = MultiLabelBinarizer(classes=labels).fit([labels])
    return mlb.transform(true_list), mlb.transform(pred_list)


def _pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    if y_true.ndim == 1:
        return float(pearsonr(y_true, y_pred).statistic)
    return float(
        np.mean([pearsonr(y_true[:, j], y_pred[:, j]).statistic for j in range(y_true.shape[1])])
    )


def task_score(
    y_true: Any,
    y_pred: Any,
    metric: str,
    task_type: str | None = None,
    sample_weight: Any = None,
) -> float:
    """Score one task's predictions, skipping rows whose label is missing.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True targets of one task. ``NaN`` / ``None`` / ``pd.NA`` cells are
        missing and their rows are skipped. Multilabel cells are label
        collections; a 2-D float block is a multi-output continuous task.
        A generation task's cell is a reference text (str) or a tuple / list
        of reference texts (a 2-D block of strs: one row of references per
        sample; ``None`` entries pad a row with fewer references).
    y_pred : array-like of the same length
        Predictions (never missing); for a generation task a str per row
        (an empty one is a valid, scoring, text).
    metric : str
        ``"accuracy"``, ``"f1_macro"``, ``"f1_micro"``, ``"f1_samples"``,
        ``"r2"``, ``"pearson"``, a sequence metric (``"token_accuracy"``,
        ``"span_precision"``, ``"span_recall"``, ``"span_f1"``) or a generation
        metric (``"bleu"``, ``"chrf"``, ``"rouge1"``, ``"rouge2"``, ``"rougeL"``).
        ``f1_*`` use ``zero_division=0``; ``f1_samples`` is multilabel only;
        ``accuracy`` on a multilabel task is subset accuracy; ``r2`` and
        ``pearson`` are continuous only and average over the columns of a
        2-D block. ``bleu`` is sacrebleu's corpus BLEU with its defaults
        (13a tokenization, cased, exponential smoothing), ``chrf`` its corpus
        chrF with its defaults, both over all references of a row;
        ``rouge*`` are rouge-score's F-measures (Porter stemming; its
        tokenizer keeps only ASCII letters and digits), the best over a row's
        references, averaged over rows. All lie in 0-1: multiply by 100 for
        sacrebleu's scale. See also :func:`corpus_bleu`.
    task_type : str, default=None
        A name of :data:`skmtl.tasks.TASK_TYPES` (``"binary"``, ``"multiclass"``,
        ``"multilabel"``, ``"continuous"``, ``"token"``, ``"token_crf"``,
        ``"generation"``) or the alias ``"sequence"``. ``None`` infers it with
        :func:`infer_task_type` on ``y_true``; an integral float ``y_true``
        whose ``y_pred`` has non-integral floats is taken as continuous. A
        sequence metric implies a tag-sequence type, a generation metric the
        ``"generation"`` type.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights (the rows of missing labels are dropped with their weight);
        not supported by ``pearson``, the sequence metrics and the corpus-level
        ``bleu`` and ``chrf``.

    Returns
    -------
    score : float
        Greater is better.

    Raises
    ------
    ValueError
        If the metric does not apply to the task type, or every ``y_true``
        cell is missing. For a generation metric also: a prediction that is
        not a str, or a reference that is neither a str nor a collection of
        strs (the message names the row), and ``sample_weight`` with ``bleu``
        or ``chrf``.
    ImportError
        For a generation metric, when sacrebleu or rouge-score is not installed.

    Examples
    --------
    >>> from skmtl.metrics import task_score
    >>> task_score([1, None, 0, 1], [1, 0, 1, 1], "accuracy")
    0.6666666666666666
    >>> task_score([("a", "b"), None, ()], [("b", "a"), ("a",), ("a",)], "f1_samples")
    0.5
    >>> task_score([1.0, 2.0, float("nan"), 3.0], [1.5, 2.0, 9.0, 3.5], "r2")
    0.75
    >>> task_score([["B-PER", "I-PER", "O"], None], [["B-PER", "O", "O"], ["O"]], "span_f1")
    0.0

    A generation task (its metrics imply the type; a missing reference is skipped):

    >>> refs = ["the cat sat on the mat", None, ("a dog barks", "the dog barks")]
    >>> hyps = ["the cat sat on the mat", "anything", "the dog barks"]
    >>> task_score(refs, hyps, "bleu", task_type="generation")
    1.0
    >>> round(task_score(["the cat sat on the mat"], ["the cat sat on a mat"], "rouge1"), 4)
    0.8333
    """
    _check_metric(metric)
    if metric in SEQUENCE_METRICS:
        if task_type is not None and not _is_sequence_type(_check_task_type(task_type)):
            raise ValueError(
                f"Metric {metric!r} applies to a tag-sequence ('token') task, not {task_type!r}."
            )
        if sample_weight is not None:
            raise ValueError(f"Metric {metric!r} does not support sample_weight.")
        return _sequence_score(y_true, y_pred, metric)
    if metric in GENERATION_METRICS:
        if task_type is not None and not _is_generation_type(_check_task_type(task_type)):
            raise ValueError(
                f"Metric {metric!r} applies to a text-generation ('generation') task, "
                f"not {task_type!r}."
            )
        return _generation_score(y_true, y_pred, metric, sample_weight)
    true_arr = _as_array(y_true)
    pred_arr = _as_array(y_pred)
    if len(true_arr) != len(pred_arr):
        raise ValueError(
            f"y_true and y_pred have different lengths: {len(true_arr)} != {len(pred_arr)}."
        )
    mask = missing_mask(true_arr)
    if mask.all():
        raise ValueError("Every y_true cell is missing: there is nothing to score.")
    if task_type is None:
        if metric in ("r2", "pearson") and _float_values(true_arr, mask):
            # float values asked for a value metric are values, even when integral
            # (a regression target of 1e16, or a 1-column block of 150.0 and 50.0)
            task_type = "continuous"
        else:
            task_type = _infer_pair(true_arr, pred_arr)
    _check_task_type(task_type)
    if not _applies(metric, task_type):
        valid = [m for m in METRICS if _applies(m, task_type)]
        raise ValueError(
            f"Metric {metric!r} does not apply to a {task_type!r} task; use one of {valid}."
        )
    keep = ~mask
    true_kept, pred_kept = true_arr[keep], pred_arr[keep]
    sw = _kept_weights(sample_weight, keep, metric)

    if metric in ("r2", "pearson"):
        yt = np.asarray(_densify(true_kept), dtype=float)
        yp = np.asarray(_densify(pred_kept), dtype=float)
        # Both metrics are scale-free: where the sums of squares would overflow
        # (values of 1e150 and more), divide by the largest true magnitude first.
        limit = np.sqrt(np.finfo(np.float64).max / max(len(yt), 1)) / 4
        peak = np.max(np.abs(yt), axis=0) if yt.size else 1.0
        peak = np.where(np.isfinite(peak) & (peak > limit), peak, 1.0)
        yt, yp = yt / peak, yp / peak
        if metric == "r2":
            return float(r2_score(yt, yp, sample_weight=sw))
        return _pearson(yt, yp)

    if task_type == "multilabel":
        yt, yp = _binarize(true_kept, pred_kept)
        if yt.shape[1] == 0:  # no label true or predicted in any row: all correct
            return 1.0
    else:
        yt, yp = _class_codes(_densify(true_kept), _densify(pred_kept))
    if metric == "accuracy":
        return float(accuracy_score(yt, yp, sample_weight=sw))
    average = metric.removeprefix("f1_")
    return float(f1_score(yt, yp, average=average, zero_division=0, sample_weight=sw))


def _class_codes(yt: np.ndarray, yp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float class labels (``0.5``, ``1.5``) as codes over the labels of both, which
    scikit-learn's classification metrics take (it calls such floats continuous)."""
    if yt.ndim != 1 or not (yt.dtype.kind == "f" or yp.dtype.kind == "f"):
        return yt, yp
    try:
        _, codes = np.unique(np.concatenate([yt, yp]), return_inverse=True)
    except TypeError:  # labels of mixed kinds: leave them to scikit-learn
        return yt, yp
    return codes[: len(yt)], codes[len(yt) :]


def _float_values(true_arr: np.ndarray, mask: np.ndarray) -> bool:
    """Whether the labelled truth is float values (a float array, or an object column of
    numbers with at least one float), which a value metric scores as values."""
    arr = np.asarray(true_arr)
    if arr.dtype.kind == "f":
        return True
    if arr.dtype.kind != "O" or arr.ndim != 1:
        return False
    cells = arr[~mask].tolist()
    return (
        bool(cells)
        and all(isinstance(c, numbers.Real) and not isinstance(c, bool) for c in cells)
        and any(isinstance(c, float) for c in cells)
    )


def _kept_weights(sample_weight: Any, keep: np.ndarray, metric: str) -> np.ndarray | None:
    if sample_weight is None:
        return None
    if metric == "pearson":
        raise ValueError("Metric 'pearson' does not support sample_weight.")
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.shape != keep.shape:
        raise ValueError(f"sample_weight has shape {sw.shape}, expected {keep.shape}.")
    return sw[keep]


def _as_cells(column: Any, name: str) -> list:
    if isinstance(column, (str, bytes)) or not hasattr(column, "__len__"):
        raise ValueError(f"{name} must be a list of tag lists, got {type(column).__name__}.")
    if isinstance(column, pd.DataFrame):
        raise ValueError(f"{name} must be one column of tag lists, not a DataFrame.")
    return list(column)


def _sequence_score(y_true: Any, y_pred: Any, metric: str) -> float:
    """A sequence metric over the sentences whose true tags are not missing."""
    true_cells = _as_cells(y_true, "y_true")
    pred_cells = _as_cells(y_pred, "y_pred")
    if len(true_cells) != len(pred_cells):
        raise ValueError(
            f"y_true and y_pred have different lengths: {len(true_cells)} != {len(pred_cells)}."
        )
    labelled = [i for i, cell in enumerate(true_cells) if not is_missing(cell)]
    if not labelled:
        raise ValueError("Every y_true cell is missing: there is nothing to score.")
    for i in labelled:
        t, p = true_cells[i], pred_cells[i]
        if isinstance(t, str) or isinstance(p, str) or is_missing(p):
            raise ValueError(
                f"Row {i}: a sequence task's cells must be lists of tags, got "
                f"{type(t).__name__} and {type(p).__name__}."
            )
        if len(t) != len(p):
            raise ValueError(f"Row {i}: {len(t)} true tags but {len(p)} predicted tags.")
    if metric == "token_accuracy":
        return float(token_accuracy(true_cells, pred_cells))
    return float(span_scores(true_cells, pred_cells)[metric.removeprefix("span_")])


# --------------------------------------------------------------------------
# generation (target texts)
# --------------------------------------------------------------------------

_SEQ2SEQ_HINT = "pip install 'skmtl[seq2seq]'"


def _require(module: str, what: str) -> Any:
    """Import an optional module of the ``seq2seq`` extra, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0].replace("_", "-")
        raise ImportError(f"{what} needs {package}: {_SEQ2SEQ_HINT}") from exc


def _references(cell: Any, row: int) -> list[str] | None:
    """The reference texts of one cell: ``None`` when missing, else a non-empty list."""
    if isinstance(cell, str):
        return [str(cell)]
    if isinstance(cell, (list, tuple, np.ndarray)):
        entries = list(np.ravel(cell)) if isinstance(cell, np.ndarray) else list(cell)
        if not entries:
            raise ValueError(f"Row {row}: an empty collection of references; give at least one.")
        refs = []
        for entry in entries:
            if isinstance(entry, str):
                refs.append(str(entry))
            elif not is_missing(entry):
                raise ValueError(
                    f"Row {row}: a generation task's references must be strs, got a "
                    f"{type(entry).__name__} ({entry!r:.60}) in {type(cell).__name__}."
                )
        return refs or None  # only missing entries: a missing row
    if is_missing(cell):
        return None
    raise ValueError(
        f"Row {row}: a generation task's reference must be a str or a tuple / list of strs, "
        f"got {type(cell).__name__} ({cell!r:.60})."
    )


def _text_rows(y_true: Any, y_pred: Any) -> tuple[list[list[str]], list[str], np.ndarray]:
    """The references and hypotheses of the labelled rows, and the mask of those rows."""
    true_arr = _as_array(y_true)
    pred_arr = _as_array(y_pred)
    if pred_arr.ndim == 2 and pred_arr.shape[1] == 1:
        pred_arr = pred_arr[:, 0]
    if pred_arr.ndim != 1:
        raise ValueError(
            f"y_pred of a generation task must be one text per row, got shape {pred_arr.shape}."
        )
    if true_arr.ndim not in (1, 2):
        raise ValueError(
            f"y_true of a generation task must be 1-D or 2-D, got shape {true_arr.shape}."
        )
    if len(true_arr) != len(pred_arr):
        raise ValueError(
            f"y_true and y_pred have different lengths: {len(true_arr)} != {len(pred_arr)}."
        )
    refs: list[list[str]] = []
    hyps: list[str] = []
    keep = np.zeros(len(true_arr), dtype=bool)
    for i in range(len(true_arr)):
        cell = true_arr[i]
        row_refs = _references(list(cell) if true_arr.ndim == 2 else cell, i)
        if row_refs is None:
            continue
        hyp = pred_arr[i]
        if not isinstance(hyp, str):
            raise ValueError(
                f"Row {i}: a generation task's prediction must be a str, got "
                f"{type(hyp).__name__} ({hyp!r:.60})."
            )
        keep[i] = True
        refs.append(row_refs)
        hyps.append(str(hyp))
    if not hyps:
        raise ValueError("Every y_true cell is missing: there is nothing to score.")
    return refs, hyps, keep


def _sacrebleu_score(metric: str, refs: list[list[str]], hyps: list[str], **options) -> float:
    """sacrebleu's corpus BLEU or chrF on the 0-1 scale.

    Rows with fewer references than the most are padded with ``None``, which
    sacrebleu takes as "no reference in this stream" (variable references).
    """
    sacrebleu = _require("sacrebleu", f"Metric {metric!r}")
    n_streams = max(len(r) for r in refs)
    streams = [[r[k] if k < len(r) else None for r in refs] for k in range(n_streams)]
    scorer = sacrebleu.metrics.BLEU(**options) if metric == "bleu" else sacrebleu.metrics.CHRF()
    return _unit(scorer.corpus_score(hyps, streams).score)


def _unit(score: float) -> float:
    """A sacrebleu score (0-100) on skmtl's 0-1 scale, clipped against float rounding
    (a perfect corpus is 100.00000000000004 in sacrebleu, and is 1.0 here)."""
    return float(min(max(float(score) / 100.0, 0.0), 1.0))


@functools.cache
def _rouge_scorer(rouge_type: str) -> Any:
    rouge_scorer = _require("rouge_score.rouge_scorer", f"Metric {rouge_type!r}")
    return rouge_scorer.RougeScorer([rouge_type], use_stemmer=True)


def _generation_score(y_true: Any, y_pred: Any, metric: str, sample_weight: Any) -> float:
    """A generation metric over the rows whose reference is not missing."""
    if sample_weight is not None and metric in ("bleu", "chrf"):
        raise ValueError(
            f"Metric {metric!r} is a corpus-level metric, no sample weights: it is not a mean "
            "over rows (give sample_weight=None, or use a ROUGE metric)."
        )
    refs, hyps, keep = _text_rows(y_true, y_pred)
    if metric in ("bleu", "chrf"):
        return _sacrebleu_score(metric, refs, hyps)
    scorer = _rouge_scorer(metric)
    per_row = [scorer.score_multi(r, h)[metric].fmeasure for r, h in zip(refs, hyps, strict=True)]
    sw = _kept_weights(sample_weight, keep, metric)
    if sw is None:
        return float(np.mean(per_row))
    if not np.all(np.isfinite(sw)) or np.any(sw < 0) or sw.sum() <= 0:
        raise ValueError(
            "sample_weight of the labelled rows must be finite, non-negative and not all zero."
        )
    return float(np.average(per_row, weights=sw))


def corpus_bleu(
    references: Sequence[Any],
    hypotheses: Sequence[str],
    *,
    lowercase: bool = False,
    tokenize: str = "13a",
) -> float:
    """Corpus BLEU of texts on the 0-1 scale, with sacrebleu's tokenization options.

    The ``"bleu"`` metric of :func:`task_score` is this function with its
    defaults; ``tokenize="none", lowercase=True`` on pre-tokenized text gives
    the "tokenized, lowercased" BLEU of older papers. Multiply by 100 for
    sacrebleu's scale.

    Parameters
    ----------
    references : sequence
        One entry per hypothesis: a reference text (str), a tuple / list of
        reference texts, or missing (``None`` / ``NaN``: the row is skipped
        with its hypothesis). Not sacrebleu's list of reference streams.
    hypotheses : sequence of str
        The system's texts.
    lowercase : bool, default=False
        Lowercase hypotheses and references first (case-insensitive BLEU).
    tokenize : str, default="13a"
        A sacrebleu tokenizer: ``"13a"`` (its default, mteval-v13a), ``"none"``
        (split on whitespace only, for pre-tokenized text), ``"intl"``,
        ``"char"``, ``"zh"``, ...

    Returns
    -------
    bleu : float
        ``sacrebleu.metrics.BLEU(lowercase=lowercase, tokenize=tokenize)``
        corpus score divided by 100 (exponential smoothing, sacrebleu's default).

    Raises
    ------
    ValueError
        If the lengths differ, every reference is missing, a cell is not text,
        or ``tokenize`` is not a sacrebleu tokenizer.
    ImportError
        If sacrebleu is not installed (``pip install 'skmtl[seq2seq]'``).

    Examples
    --------
    >>> from skmtl.metrics import corpus_bleu
    >>> refs = ["The cat sat on the mat .", None]
    >>> hyps = ["the cat sat on the mat .", "x"]
    >>> round(corpus_bleu(refs, hyps), 4), corpus_bleu(refs, hyps, lowercase=True)
    (0.8091, 1.0)
    """
    refs, hyps, _ = _text_rows(references, hypotheses)
    known = list(_require("sacrebleu", "corpus_bleu").metrics.BLEU.TOKENIZERS)
    if tokenize not in known:
        raise ValueError(f"Unknown tokenize={tokenize!r}; sacrebleu's tokenizers are {known}.")
    # force: with tokenize="none" the text is tokenized on purpose (no "detokenize" warning).
    options = {"lowercase": bool(lowercase), "tokenize": tokenize, "force": tokenize == "none"}
    return _sacrebleu_score("bleu", refs, hyps, **options)


def _ids_text(seq: Any, what: str, row: int) -> str:
    if isinstance(seq, (str, bytes)) or not hasattr(seq, "__iter__"):
        raise ValueError(f"{what}[{row}] must be a sequence of int ids, got {type(seq).__name__}.")
    try:
        return " ".join(str(operator.index(v)) for v in np.asarray(seq).ravel().tolist())
    except TypeError as exc:
        raise ValueError(f"{what}[{row}] must hold int ids: {exc}") from exc


def corpus_bleu_ids(
    references: Sequence[Sequence[int]], hypotheses: Sequence[Sequence[int]]
) -> float:
    """Corpus BLEU (0-1) of integer id sequences, such as subword ids.

    Each sequence is written as its ids joined by spaces and scored by
    ``sacrebleu.metrics.BLEU(tokenize="none", smooth_method="exp")``: one
    reference per hypothesis, every id one token, and sacrebleu's default
    exponential smoothing, so that a short corpus without any matching 4-gram
    still scores above 0 when its shorter n-grams match (but, as in sacrebleu,
    a corpus whose hypotheses are all shorter than 4 ids scores 0). This is the
    validation score of :class:`skmtl.tasks.GenerationTask` (for early
    stopping); it depends on the tokenizer and is not comparable with the
    ``"bleu"`` of detokenized texts. Multiply by 100 for sacrebleu's scale.

    Parameters
    ----------
    references : sequence of sequences of int
        The reference ids of each row (without BOS / EOS / padding).
    hypotheses : sequence of sequences of int
        The generated ids of each row (may be empty).

    Returns
    -------
    bleu : float
        In 0-1; 1.0 when every hypothesis equals its reference (of at least 4 ids).

    Raises
    ------
    ValueError
        If the lengths differ, there is no row, or an id is not an integer.
    ImportError
        If sacrebleu is not installed (``pip install 'skmtl[seq2seq]'``).

    Examples
    --------
    >>> from skmtl.metrics import corpus_bleu_ids
    >>> corpus_bleu_ids([[5, 6, 7, 8, 9]], [[5, 6, 7, 8, 9]])
    1.0
    >>> corpus_bleu_ids([[5, 6, 7, 8, 9]], [[1, 2, 3, 4, 0]]) < 0.01
    True
    """
    if len(references) != len(hypotheses):
        raise ValueError(
            f"references and hypotheses have different lengths: "
            f"{len(references)} != {len(hypotheses)}."
        )
    if len(references) == 0:
        raise ValueError("No rows: there is nothing to score.")
    refs = [_ids_text(seq, "references", i) for i, seq in enumerate(references)]
    hyps = [_ids_text(seq, "hypotheses", i) for i, seq in enumerate(hypotheses)]
    sacrebleu = _require("sacrebleu", "corpus_bleu_ids")
    bleu = sacrebleu.metrics.BLEU(tokenize="none", smooth_method="exp")
    return _unit(bleu.corpus_score(hyps, [refs]).score)


# --------------------------------------------------------------------------
# whole multi-task targets
# --------------------------------------------------------------------------


def _split_tasks(Y: Any) -> dict[str, Any]:
    """``{task_name: column}`` for an ndarray, DataFrame or dict target."""
    if isinstance(Y, Mapping):
        tasks = {str(k): v for k, v in Y.items()}
        if len(tasks) != len(Y):
            raise ValueError("Task names must be distinct once converted to str.")
        return tasks
    if hasattr(Y, "columns") and hasattr(Y, "iloc"):  # pandas DataFrame
        names = [str(c) for c in Y.columns]
        if len(set(names)) != len(names):
            raise ValueError("DataFrame column labels must be distinct once converted to str.")
        return {name: Y.iloc[:, j] for j, name in enumerate(names)}
    if hasattr(Y, "to_numpy") and hasattr(Y, "name"):  # a pandas Series: one task, named
        return {"0" if Y.name is None else str(Y.name): Y}  # as the estimators name it
    if isinstance(Y, (list, tuple)):  # a 1-D y as a plain list: one task
        column = np.empty(len(Y), dtype=object)
        column[:] = list(Y)
        return {"0": column}
    if isinstance(Y, np.ndarray):
        if Y.ndim == 1:
            return {"0": Y}
        if Y.ndim == 2:
            return {str(j): Y[:, j] for j in range(Y.shape[1])}
    raise TypeError(
        "Y must be a 2-D numpy array, a pandas DataFrame or a dict {task: array}; "
        f"got {type(Y).__name__}."
    )


def _width(column: Any) -> int:
    arr = _as_array(column)
    return arr.shape[1] if arr.ndim == 2 else 1


def _unknown_task(task: str, names: Sequence[str]) -> ValueError:
    return ValueError(f"Unknown task {task!r}; known tasks are {list(names)}.")


def _task_column(Y: Any, task: str) -> Any:
    tasks = _split_tasks(Y)
    if task not in tasks:
        raise _unknown_task(task, list(tasks))
    return tasks[task]


def _pred_column(Y_pred: Any, task: str, true_tasks: Mapping[str, Any]) -> Any:
    """The predictions of ``task``.

    Looked up by name in a DataFrame / dict. In an ndarray, by the task's
    position among ``true_tasks`` (blocks of a dict target take as many
    columns as they have), so an ndarray prediction also matches a DataFrame
    or dict ``y_true`` -- what sklearn's multi-output estimators return.
    """
    if task not in true_tasks:
        raise _unknown_task(task, list(true_tasks))
    if isinstance(Y_pred, np.ndarray):
        widths = [_width(col) for col in true_tasks.values()]
        total = sum(widths)
        n_cols = Y_pred.shape[1] if Y_pred.ndim == 2 else 1
        if n_cols != total:
            raise ValueError(
                f"y_pred has {n_cols} column(s) but the tasks {list(true_tasks)} need {total}."
            )
        if Y_pred.ndim == 1:
            return Y_pred
        position = list(true_tasks).index(task)
        start = sum(widths[:position])
        block = Y_pred[:, start : start + widths[position]]
        return block if _width(true_tasks[task]) > 1 else block[:, 0]
    pred_tasks = _split_tasks(Y_pred)
    if task not in pred_tasks:
        raise ValueError(
            f"Task {task!r} is missing from y_pred, which has tasks {list(pred_tasks)}."
        )
    return pred_tasks[task]


def _as_metric_list(spec: str | Sequence[str]) -> list[str]:
    metrics = [spec] if isinstance(spec, str) else list(spec)
    if not metrics:
        raise ValueError("An empty list of metrics was given.")
    return [_check_metric(m) for m in metrics]


def _check_task_names(mapping: Mapping, names: Sequence[str], what: str) -> dict[str, Any]:
    out = {str(k): v for k, v in mapping.items()}
    unknown = [k for k in out if k not in names]
    if unknown:
        raise ValueError(
            f"Unknown task name(s) {unknown} in {what}; known tasks are {list(names)}."
        )
    return out


def _resolve_metrics(
    metrics: MetricSpec,
    types: Mapping[str, str],
    defaults: Callable[[str], Sequence[str]],
) -> dict[str, list[str]]:
    names = list(types)
    if metrics is None:
        return {n: list(defaults(types[n])) for n in names}
    if isinstance(metrics, Mapping):
        spec = _check_task_names(metrics, names, "metrics")
        return {
            n: _as_metric_list(spec[n]) if n in spec else list(defaults(types[n])) for n in names
        }
    requested = _as_metric_list(metrics)
    resolved = {n: [m for m in requested if _applies(m, types[n])] for n in names}
    used = {m for ms in resolved.values() for m in ms}
    unused = [m for m in requested if m not in used]
    if unused:
        hint = ""
        if any(m in GENERATION_METRICS for m in unused):
            hint = (
                " A generation task is never inferred (its texts look like class labels): "
                "name it in task_types={task: 'generation'}."
            )
        raise ValueError(
            f"Metric(s) {unused} apply to none of the tasks, whose types are {dict(types)}." + hint
        )
    return resolved


def _imply_generation(
    types: Mapping[str, str],
    chosen: Mapping[str, Sequence[str]],
    task_types: Mapping[str, str] | None,
) -> dict[str, str]:
    """Types with ``"generation"`` for each task whose type was inferred (not given in
    ``task_types``) and that is asked for a generation metric: the metric implies it."""
    given = {str(k) for k in (task_types or {})}
    return {
        name: "generation"
        if name not in given and any(m in GENERATION_METRICS for m in chosen.get(name, ()))
        else task_type
        for name, task_type in types.items()
    }


def _prepare(
    Y_true: Any, Y_pred: Any, task_types: Mapping[str, str] | None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    true_tasks = _split_tasks(Y_true)
    pred_tasks = {n: _pred_column(Y_pred, n, true_tasks) for n in true_tasks}
    given = _check_task_names(task_types or {}, list(true_tasks), "task_types")
    types = {}
    for name in true_tasks:
        try:
            types[name] = (
                _check_task_type(given[name])
                if name in given
                else _infer_pair(true_tasks[name], pred_tasks[name])
            )
        except ValueError as exc:
            raise ValueError(f"Task {name!r}: {exc}") from exc
    return true_tasks, pred_tasks, types


def _report_metrics(task_type: str) -> tuple[str, ...]:
    """The metrics :func:`task_report` shows for a task type by default."""
    return REPORT_METRICS.get(_check_task_type(task_type), (default_metric(task_type),))


def _score_all(
    true_tasks: Mapping[str, Any],
    pred_tasks: Mapping[str, Any],
    types: Mapping[str, str],
    chosen: Mapping[str, Sequence[str]],
) -> dict[str, dict[str, float]]:
    scores: dict[str, dict[str, float]] = {}
    for name, metric_names in chosen.items():
        scores[name] = {}
        for metric in metric_names:
            try:
                # a sequence metric implies a (never inferred) tag-sequence type
                task_type = None if metric in SEQUENCE_METRICS else types[name]
                scores[name][metric] = task_score(
                    true_tasks[name], pred_tasks[name], metric, task_type=task_type
                )
            except ValueError as exc:
                raise ValueError(f"Task {name!r}: {exc}") from exc
    return scores


def task_scores(
    Y_true: Any,
    Y_pred: Any,
    metrics: MetricSpec = None,
    *,
    task_types: Mapping[str, str] | None = None,
) -> dict[str, dict[str, float]]:
    """Score every task of a multi-task target.

    Parameters
    ----------
    Y_true : ndarray of shape (n_samples, n_tasks), DataFrame or dict
        True targets; missing cells are skipped task by task.
    Y_pred : same layout as ``Y_true``
        Predictions. An ndarray is also accepted for a DataFrame or dict
        ``Y_true`` (tasks matched by position), as returned by sklearn's
        multi-output estimators.
    metrics : None, str, list of str or dict, default=None
        ``None``: the task type's default (:data:`DEFAULT_METRICS`). A str or
        list: applied to every task it is valid for (a metric valid for no
        task is an error). A dict ``{task: str or list}``: those metrics for
        those tasks, the default for unlisted tasks.
    task_types : dict, default=None
        ``{task: task_type}`` overriding the inferred types.

    Returns
    -------
    scores : dict
        ``{task: {metric: score}}``, tasks in ``Y_true`` order.

    Raises
    ------
    ValueError
        For a task name in ``metrics`` or ``task_types`` that is not in
        ``Y_true`` (the message lists the known tasks), a metric that does
        not fit a task, or a task whose labels are all missing.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import task_scores
    >>> Y_true = {"sentiment": ["pos", "neg", None], "rating": [1.5, np.nan, 3.0]}
    >>> Y_pred = {"sentiment": ["pos", "pos", "neg"], "rating": [1.0, 2.0, 3.5]}
    >>> task_scores(Y_true, Y_pred)
    {'sentiment': {'accuracy': 0.5}, 'rating': {'r2': 0.5555555555555556}}
    >>> task_scores(Y_true, Y_pred, metrics={"sentiment": ["f1_macro"]})["sentiment"]
    {'f1_macro': 0.3333333333333333}
    """
    true_tasks, pred_tasks, types = _prepare(Y_true, Y_pred, task_types)
    chosen = _resolve_metrics(metrics, types, lambda t: [default_metric(t)])
    types = _imply_generation(types, chosen, task_types)
    return _score_all(true_tasks, pred_tasks, types, chosen)


def task_report(
    Y_true: Any,
    Y_pred: Any,
    metrics: MetricSpec = None,
    digits: int = 3,
    output_dict: bool = False,
    *,
    task_types: Mapping[str, str] | None = None,
) -> str | dict[str, dict[str, Any]]:
    """Build a text report of per-task scores, like ``classification_report``.

    One row per task: its name, type, ``n_labelled`` (rows whose label is
    not missing) and its metrics; a metric that does not apply is shown
    as ``-``.

    Parameters
    ----------
    Y_true : ndarray of shape (n_samples, n_tasks), DataFrame or dict
        True targets.
    Y_pred : same layout as ``Y_true``
        Predictions.
    metrics : None, str, list of str or dict, default=None
        As in :func:`task_scores`, except that the defaults are those of
        :data:`REPORT_METRICS`: accuracy, f1_macro and f1_micro for
        classification; f1_samples, f1_macro and f1_micro for multilabel; r2
        and pearson for continuous tasks; the sequence metrics for tag
        sequences; bleu, chrf, rouge1, rouge2 and rougeL for a generation task
        (never inferred: name it in ``task_types``, or ask for a generation
        metric in a dict ``metrics``).
    digits : int, default=3
        Digits after the decimal point in the text table.
    output_dict : bool, default=False
        Return ``{task: {"type": str, "n_labelled": int, metric: float, ...}}``
        instead of text.
    task_types : dict, default=None
        ``{task: task_type}`` overriding the inferred types.

    Returns
    -------
    report : str or dict
        The text table, or the nested dict when ``output_dict=True``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmtl.metrics import task_report
    >>> Y_true = pd.DataFrame({"spam": [1, 0, 1, None], "tags": [("a",), (), ("a", "b"), None]})
    >>> Y_pred = pd.DataFrame({"spam": [1, 0, 0, 1], "tags": [("a",), (), ("a",), ("b",)]})
    >>> print(task_report(Y_true, Y_pred, digits=2))
    task        type  n_labelled  accuracy  f1_samples  f1_macro  f1_micro
    spam      binary           3      0.67           -      0.67      0.67
    tags  multilabel           3         -        0.56      0.50      0.80
    >>> task_report(Y_true, Y_pred, metrics="accuracy", output_dict=True)["tags"]
    {'type': 'multilabel', 'n_labelled': 3, 'accuracy': 0.6666666666666666}
    """
    true_tasks, pred_tasks, types = _prepare(Y_true, Y_pred, task_types)
    chosen = _resolve_metrics(metrics, types, _report_metrics)
    types = _imply_generation(types, chosen, task_types)
    scores = _score_all(true_tasks, pred_tasks, types, chosen)
    report: dict[str, dict[str, Any]] = {
        name: {
            "type": types[name],
            "n_labelled": int((~missing_mask(_as_array(true_tasks[name]))).sum()),
            **scores[name],
        }
        for name in true_tasks
    }
    if output_dict:
        return report

    used = {m for ms in chosen.values() for m in ms}
    columns = [m for m in METRICS if m in used]
    header = ["task", "type", "n_labelled", *columns]
    rows = [
        [
            name,
            row["type"],
            str(row["n_labelled"]),
            *(f"{row[m]:.{digits}f}" if m in row else "-" for m in columns),
        ]
        for name, row in report.items()
    ]
    widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


# --------------------------------------------------------------------------
# scorers
# --------------------------------------------------------------------------


def _score_task(
    y_true: Any, y_pred: Any, task: str, metric: str, task_type: str | None = None
) -> float:
    """Score function behind :func:`make_task_scorer`: one task of a whole Y."""
    true_tasks = _split_tasks(y_true)
    if task not in true_tasks:
        raise _unknown_task(task, list(true_tasks))
    return task_score(
        true_tasks[task], _pred_column(y_pred, task, true_tasks), metric, task_type=task_type
    )


def _mean_task_score(y_true: Any, y_pred: Any, pairs: tuple[tuple[str, str], ...]) -> float:
    """Score function behind the ``"mean"`` scorer: average over (task, metric).

    A task whose every ``y_true`` cell is missing (a fold without its labels) is
    left out, as the estimators' ``score`` does; if every task is, it raises.
    """
    true_tasks = _split_tasks(y_true)
    scored = [
        (task, metric)
        for task, metric in pairs
        if task not in true_tasks or not _all_missing(true_tasks[task])
    ]
    if not scored:
        raise ValueError("Y has no labelled row for any task; nothing to score.")
    return float(np.mean([_score_task(y_true, y_pred, task, metric) for task, metric in scored]))


def _all_missing(column: Any) -> bool:
    """Whether every row of a task's column is missing (a 2-D block row: all NaN)."""
    arr = column if isinstance(column, np.ndarray) else _as_array(column)
    return bool(np.all(missing_mask(arr))) if len(arr) else True


def make_task_scorer(task: str, metric: str, task_type: str | None = None) -> Callable:
    """Make a scorer of one task's metric for sklearn model selection.

    Built with :func:`sklearn.metrics.make_scorer` and
    ``response_method="predict"``, so that sklearn's multi-metric scoring
    calls ``predict`` once and shares it among all such scorers.

    Parameters
    ----------
    task : str
        Task name: a DataFrame column (matched on ``str(label)``), a dict
        key, or a column index of an ndarray target (``"0"``, ``"1"``, ...).
    metric : str
        A metric of :func:`task_score`. Greater is better.
    task_type : str, default=None
        Fixes the task type instead of inferring it on each split.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, Y)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from skmtl.metrics import make_task_scorer
    >>> X = np.zeros((4, 1))
    >>> Y = np.array([[0, 1], [0, 1], [1, 1], [0, 0]])
    >>> model = DummyClassifier(strategy="most_frequent").fit(X, Y)
    >>> make_task_scorer("1", "accuracy")(model, X, Y)
    0.75
    """
    if task_type is not None:
        _check_task_type(task_type)
    return make_scorer(
        _score_task,
        response_method="predict",
        task=str(task),
        metric=_check_metric(metric),
        task_type=task_type,
    )


def multitask_scorers(metrics: Mapping[str, str | Sequence[str]]) -> dict[str, Callable]:
    """Make a scoring dict for multi-metric ``GridSearchCV`` / ``cross_validate``.

    Parameters
    ----------
    metrics : dict
        ``{task: metric or list of metrics}``.

    Returns
    -------
    scorers : dict
        ``"<task>_<metric>"`` -> scorer for each pair, and ``"mean"`` -> the
        unweighted mean of all those scores (use it as ``refit="mean"``). All
        scorers share one cached ``predict`` call per evaluation.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.multioutput import MultiOutputClassifier
    >>> from skmtl.metrics import multitask_scorers
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 3))
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0]).astype(int)
    >>> scoring = multitask_scorers({"0": "accuracy", "1": ["accuracy", "f1_macro"]})
    >>> sorted(scoring)
    ['0_accuracy', '1_accuracy', '1_f1_macro', 'mean']
    >>> search = GridSearchCV(MultiOutputClassifier(LogisticRegression()),
    ...                       {"estimator__C": [0.01, 1.0]}, scoring=scoring, refit="mean")
    >>> search.fit(X, Y).best_params_
    {'estimator__C': 1.0}
    """
    if not isinstance(metrics, Mapping) or not metrics:
        raise ValueError("metrics must be a non-empty dict {task: metric or list of metrics}.")
    scorers: dict[str, Callable] = {}
    pairs: list[tuple[str, str]] = []
    for task, spec in metrics.items():
        for metric in _as_metric_list(spec):
            key = f"{task}_{metric}"
            if key in scorers or key == "mean":
                raise ValueError(f"Scorer name {key!r} is not unique.")
            scorers[key] = make_task_scorer(str(task), metric)
            pairs.append((str(task), metric))
    scorers["mean"] = make_scorer(_mean_task_score, response_method="predict", pairs=tuple(pairs))
    return scorers


# --------------------------------------------------------------------------
# multilabel thresholds
# --------------------------------------------------------------------------


def _indicator(
    y_true: Any, labels: Sequence | None, n_labels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indicator matrix of ``y_true`` and the mask of its non-missing rows."""
    arr = _as_array(y_true)
    keep = ~missing_mask(arr)
    if arr.ndim == 2:
        return np.asarray(arr, dtype=float), keep
    if labels is None:
        raise ValueError("labels must give the column order of proba when y_true holds label sets.")
    labels = list(labels)
    if len(labels) != n_labels:
        raise ValueError(f"labels has {len(labels)} entries but proba has {n_labels} columns.")
    cells = [cell if k else () for cell, k in zip(arr, keep, strict=True)]
    unknown = {lab for cell in cells for lab in cell} - set(labels)
    if unknown:
        raise ValueError(f"y_true holds labels not in labels: {sorted(map(str, unknown))}.")
    return MultiLabelBinarizer(classes=labels).fit([labels]).transform(cells), keep


def tune_thresholds(
    y_true: Any,
    proba: Any,
    labels: Sequence | None = None,
    grid: Iterable[float] | None = None,
) -> np.ndarray:
    """Per-label decision thresholds maximising each label's F1.

    For a multilabel task, label ``k`` is predicted when
    ``proba[:, k] >= threshold[k]``. Each threshold is the grid value with
    the best F1 of that label on the given (development) data; ties go to
    the value closest to 0.5 (then the smaller one). A label without a
    positive example gets 0.5. Rows whose ``y_true`` is missing are skipped.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_labels) or (n_samples,)
        A 0/1 indicator matrix, or one label collection per row (then
        ``labels`` gives the order of the columns of ``proba``).
    proba : array-like of shape (n_samples, n_labels)
        Scores of each label, e.g. predicted probabilities. A list of
        ``(n_samples, 2)`` arrays (sklearn's multi-output ``predict_proba``)
        is also accepted.
    labels : sequence, default=None
        Label of each column of ``proba``; needed for label collections.
    grid : iterable of float, default=None
        Candidate thresholds; ``np.linspace(0.05, 0.95, 19)`` by default.

    Returns
    -------
    thresholds : ndarray of shape (n_labels,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import tune_thresholds
    >>> y = [("a",), ("a", "b"), (), ("b",)]
    >>> proba = np.array([[0.9, 0.1], [0.35, 0.8], [0.3, 0.2], [0.1, 0.7]])
    >>> tune_thresholds(y, proba, labels=["a", "b"])
    array([0.35, 0.5 ])
    """
    if isinstance(proba, list) and proba and all(np.ndim(p) == 2 for p in proba):
        proba = np.column_stack([np.asarray(p)[:, -1] for p in proba])
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2:
        raise ValueError(f"proba must be 2-D (n_samples, n_labels); got shape {proba.shape}.")
    # The default grid is rounded so that 0.35 is exactly the float 0.35.
    default = np.round(np.linspace(0.05, 0.95, 19), 2)
    grid_arr = default if grid is None else np.asarray(list(grid), dtype=float)
    if grid_arr.ndim != 1 or grid_arr.size == 0:
        raise ValueError("grid must be a non-empty 1-D sequence of thresholds.")
    Y, keep = _indicator(y_true, labels, proba.shape[1])
    if Y.shape != proba.shape:
        raise ValueError(f"y_true has shape {Y.shape} but proba has shape {proba.shape}.")
    Y, proba = np.asarray(Y[keep], dtype=bool), proba[keep]

    # Candidate order for ties: closest to 0.5 first, then the smaller value.
    order = np.lexsort((grid_arr, np.abs(grid_arr - 0.5)))
    thresholds = np.full(proba.shape[1], 0.5)
    for k in range(proba.shape[1]):
        positives = Y[:, k]
        if not positives.any():
            continue
        predicted = proba[:, k][:, None] >= grid_arr[order][None, :]
        tp = (predicted & positives[:, None]).sum(axis=0)
        fp = (predicted & ~positives[:, None]).sum(axis=0)
        fn = positives.sum() - tp
        f1 = 2 * tp / (2 * tp + fp + fn)
        thresholds[k] = grid_arr[order][int(np.argmax(f1))]  # first max = tie rule
    return thresholds
