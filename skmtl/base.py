"""The private base of every multi-task estimator.

Public ``fit`` validates and encodes (template method); ``_fit`` trains. The
torch modules live in :mod:`skmtl.encoders`, :mod:`skmtl.heads` and
:mod:`skmtl._network`; the loss weighting is a strategy object from
:mod:`skmtl.weighting`.
"""

from __future__ import annotations

import copy
import numbers
import time
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import accuracy_score, f1_score, r2_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._history import History
from ._network import MultiTaskNetwork
from ._tasks import (
    TASK_TYPES,
    TargetLayout,
    Task,
    assemble,
    columns_for,
    decode_predictions,
    encode_task,
    resolve_tasks,
    split_targets,
)
from ._torch_base import EpochStats, TorchEstimatorMixin, rng_devices
from .encoders._inputs import EncodedInputs, FeatureInputs, move_batch
from .encoders._mlp import ACTIVATIONS, NORMALIZATIONS, EncoderTrunk, MLPTrunk
from .heads import TaskHead, head_output_to_numpy, masked_task_loss
from .weighting import EqualWeighting, WeightingStrategy

__all__ = ["BaseMultiTaskEstimator"]


_PREDICT_BATCH = 2048


# numpydoc fragments shared by the public estimators' docstrings.
PARAMS_DOC = {}
PARAMS_DOC["shared"] = """\
    encoder : object, default=None
        None: X is a numeric matrix (dense or sparse). Or a text encoder
        such as :class:`skmtl.encoders.TextEncoder`: X is then a list of raw
        strings, tokenized by the encoder and encoded by its network, which
        is trained end to end with the rest of the model.
    hidden_layer_sizes : tuple of int, default=(128,)
        Widths of the shared layers. The first layer reads sparse X
        directly (an embedding-bag product), so TF-IDF input is never
        densified. With an ``encoder`` these layers sit on top of it and may
        be empty.
    activation : {"relu", "gelu", "tanh", "identity"}, default="relu"
        Activation of shared and head hidden layers.
    dropout : float, default=0.0
        Dropout after each hidden layer.
    normalization : {None, "layer", "batch"}, default=None
        Normalisation after each shared layer.
    head_hidden_layer_sizes : tuple of int, default=()
        Private hidden layers of each task head.
    tasks : dict, default=None
        Override inferred task types: ``{task: "binary" | "multiclass" |
        "multilabel"}``. Inference uses :func:`sklearn.utils.multiclass.type_of_target`;
        a column whose cells are lists/sets of labels is multilabel.
    task_weights : dict or sequence of float, default=None
        Static weight of each task's loss (None: all 1). Tunable per task in
        a grid search as ``task_weights__<task>``.
    weighting : WeightingStrategy, default=None
        How task losses are combined (None: :class:`~skmtl.weighting.EqualWeighting`).
"""
PARAMS_DOC["classification"] = """\
    threshold : float or dict, default=0.5
        Decision threshold of multilabel tasks: one float, or a dict by task
        of a float or a per-label array. Applied at predict time, so tuning it
        needs no refit; searchable as ``threshold__<task>``.
    class_weight : None, "balanced" or dict, default=None
        Per-task class weights: "balanced" for every task, or a dict by task
        of None / "balanced" / ``{label: weight}``. For multilabel tasks the
        weights scale the positive term of each label (``pos_weight``).
"""
PARAMS_DOC["training"] = """\
    learning_rate : float, default=1e-3
        AdamW learning rate.
    weight_decay : float, default=1e-4
        AdamW weight decay.
    batch_size : int, default=128
        Mini-batch size.
    max_epochs : int, default=100
        Maximum number of passes over the training data.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when the mean
        validation score has not improved by ``tol`` for ``n_iter_no_change``
        epochs; the best epoch's weights are restored.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum improvement of the validation score.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout and the validation split;
        an int gives identical results run to run on CPU.
    verbose : int, default=0
        Print one line per epoch when > 0.
    warm_start : bool, default=False
        Continue training the fitted model on the next ``fit`` call.
    record_gradients : bool, default=False
        Record gradient diagnostics in ``history_``: after each epoch's
        updates, each task's loss on a fixed probe batch (the first
        ``batch_size`` training rows) is differentiated with respect to the
        shared (trunk) parameters, with the network in eval mode (no
        dropout, frozen batch-norm statistics). The epoch's record gets
        ``grad_norm`` (``{task: L2 norm}``) and ``grad_cosine``
        (``{"a|b": cosine similarity}`` for each pair of tasks; NaN when a
        task has no labelled row in the probe). The gradients are computed
        with ``torch.autograd.grad`` and discarded: training is unchanged.
        Costs one forward and one backward pass per task per epoch.
    device : {"cpu", "cuda", "cuda:N", "auto"}, default="cpu"
        Where to train and predict.

"""
PARAMS_DOC["attributes"] = """\
    Attributes
    ----------
    tasks_ : dict of str to Task
        Each task's name, type, classes and columns, in order.
    classes_ : ndarray or list of ndarray
        Labels of each task (an array when Y was 1-D).
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of str
        Feature names, when X had string column names.
    history_ : History
        One dict per epoch: ``train_loss``, ``task_loss``, ``task_weight``
        (each task's mean effective weight over the batches where it had
        labels) and, with early stopping, ``valid_score`` and
        ``task_valid_score``; slice it as ``history_[:, "train_loss"]``.
    module_ : torch.nn.Module
        The trained :class:`~skmtl._network.MultiTaskNetwork`.
    optimizer_ : torch.optim.AdamW
        The optimiser (kept for ``warm_start``).
    weighting_ : WeightingStrategy
        The fitted clone of ``weighting``.
    n_iter_ : int
        Epochs run in the last ``fit``.
    best_epoch_ : int or None
        Epoch whose weights were restored by early stopping.

"""


class BaseMultiTaskEstimator(TorchEstimatorMixin, BaseEstimator):
    """Shared trunk + one head per task, trained jointly on masked task losses.

    Subclasses set ``_allowed_types`` (task types they accept) and
    ``_forced_type`` (a type every task gets unless ``tasks`` says otherwise).
    """

    _allowed_types: tuple[str, ...] = TASK_TYPES
    _forced_type: str | None = None
    # Per-task dict parameters: ``set_params(task_weights__emotion=2)`` sets one entry.
    _PER_TASK_PARAMS = ("task_weights", "threshold", "class_weight")

    def __init__(
        self,
        *,
        encoder=None,
        hidden_layer_sizes: Sequence[int] = (128,),
        activation: str = "relu",
        dropout: float = 0.0,
        normalization: str | None = None,
        head_hidden_layer_sizes: Sequence[int] = (),
        tasks: Mapping | None = None,
        task_weights: Mapping | Sequence | None = None,
        weighting: WeightingStrategy | None = None,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 128,
        max_epochs: int = 100,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        random_state=None,
        verbose: int = 0,
        warm_start: bool = False,
        record_gradients: bool = False,
        device: str = "cpu",
    ) -> None:
        self.encoder = encoder
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.normalization = normalization
        self.head_hidden_layer_sizes = head_hidden_layer_sizes
        self.tasks = tasks
        self.task_weights = task_weights
        self.weighting = weighting
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.record_gradients = record_gradients
        self.device = device

    # ------------------------------------------------------------ validation

    def _validate_params(self) -> None:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        if (not sizes and self.encoder is None) or any(
            not isinstance(s, numbers.Integral) or s < 1 for s in sizes
        ):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes!r}.")
        if any(not isinstance(s, numbers.Integral) or s < 1 for s in self.head_hidden_layer_sizes):
            raise ValueError(
                f"head_hidden_layer_sizes must be positive integers, got "
                f"{self.head_hidden_layer_sizes!r}."
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}."
            )
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {NORMALIZATIONS}, got {self.normalization!r}."
            )
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if self.encoder is not None and not all(
            hasattr(self.encoder, m) for m in ("prepare", "batch", "build_module")
        ):
            raise ValueError(
                "encoder must be None or a text encoder with prepare, batch and build_module "
                f"methods (e.g. skmtl.encoders.TextEncoder()), got {self.encoder!r}."
            )
        self._check_training_params()

    def _per_task_values(self, param: str, tasks: list[Task], default, check) -> dict[str, object]:
        """Resolve a per-task parameter (None, scalar, sequence or dict) to a dict."""
        value = getattr(self, param)
        names = [t.name for t in tasks]
        if value is None:
            return dict.fromkeys(names, default)
        if isinstance(value, Mapping):
            entries = {str(k): v for k, v in value.items()}
            fallback = entries.pop("*", default)
            unknown = [k for k in entries if k not in names]
            if unknown:
                raise ValueError(f"{param} names unknown tasks {unknown}; the tasks are {names}.")
            out = {n: entries.get(n, fallback) for n in names}
        elif isinstance(value, (str, numbers.Number)) or (
            isinstance(value, np.ndarray) and value.ndim == 0
        ):
            out = dict.fromkeys(names, value)
        elif isinstance(value, Sequence | np.ndarray):
            if len(value) != len(names):
                raise ValueError(
                    f"{param} has {len(value)} entries but there are {len(names)} tasks {names}."
                )
            out = dict(zip(names, value, strict=False))
        else:
            raise ValueError(f"{param} must be a dict by task name or a sequence, got {value!r}.")
        for name, v in out.items():
            check(name, v)
        return out

    def _task_weight_vector(self, tasks: list[Task]) -> np.ndarray:
        def check(name, w):
            if (
                isinstance(w, bool)
                or not isinstance(w, numbers.Real)
                or not np.isfinite(w)
                or w < 0
            ):
                raise ValueError(f"task_weights[{name!r}] must be a finite number >= 0, got {w!r}.")

        weights = self._per_task_values("task_weights", tasks, 1.0, check)
        return np.array([float(weights[t.name]) for t in tasks], dtype=np.float32)

    def _inputs(self, X, *, fitting: bool):
        """Validate X and wrap it for batching: numeric features, or texts for ``encoder``."""
        if self.encoder is None:
            X = validate_data(
                self,
                X,
                reset=fitting,
                accept_sparse=("csr", "csc", "coo"),
                dtype=(np.float32, np.float64),
            )
            return FeatureInputs(X)
        if fitting:
            self.encoder_ = clone(self.encoder)
        return EncodedInputs(self.encoder_, self.encoder_.prepare(X))

    # ------------------------------------------------------------ fit

    def fit(self, X, y, sample_weight=None):
        """Fit the model on X and the multi-task targets Y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Features. Sparse input is never densified whole.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks), DataFrame or dict
            The targets Y: one column per task (DataFrame columns / dict keys are task
            names). NaN, None or pd.NA mark a missing label.
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Per-row weights, shared by all tasks or given per task.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        warm = self.warm_start and hasattr(self, "module_")
        inputs = self._inputs(X, fitting=not warm)
        n_samples = len(inputs)
        layout, columns = split_targets(y)
        n_rows = {len(c) for c in columns.values()}.pop()
        if n_rows != n_samples:
            raise ValueError(f"X has {n_samples} samples but Y has {n_rows} rows; they must match.")
        if self.warm_start and hasattr(self, "module_"):
            tasks = list(self.tasks_.values())
            raw = columns_for(self._layout, tasks, y)
            layout = self._layout
        else:
            tasks, raw = resolve_tasks(
                layout,
                columns,
                self.tasks,
                self._allowed_types,
                self._forced_type,
                type(self).__name__,
            )
        encoded = {t.name: encode_task(t, raw[t.name]) for t in tasks}
        weights = self._row_weights(sample_weight, n_samples, tasks, encoded)
        task_weights = self._task_weight_vector(tasks)
        class_weights = self._class_weights(tasks, encoded)
        self._task_thresholds(tasks)  # validate before a long fit
        return self._fit(inputs, layout, tasks, encoded, weights, task_weights, class_weights)

    def _row_weights(self, sample_weight, n, tasks, encoded) -> dict[str, np.ndarray]:
        if sample_weight is None:
            base = np.ones((n, len(tasks)), dtype=np.float32)
        else:
            sw = np.asarray(sample_weight)
            if sw.ndim == 2:
                if sw.shape != (n, len(tasks)):
                    raise ValueError(
                        f"sample_weight of shape {sw.shape} must be (n_samples,) or "
                        f"(n_samples, n_tasks) = {(n, len(tasks))}."
                    )
                sw = sw.astype(np.float64)
                if not np.all(np.isfinite(sw)) or np.any(sw < 0):
                    raise ValueError("sample_weight must be finite and >= 0.")
                base = sw.astype(np.float32)
            else:
                if sw.ndim != 1 or sw.shape[0] != n:
                    raise ValueError(
                        f"sample_weight.shape == {sw.shape}, expected {(n,)} or "
                        f"(n_samples, n_tasks) = {(n, len(tasks))}."
                    )
                sw = sw.astype(np.float64)
                if not np.all(np.isfinite(sw)) or np.any(sw < 0):
                    raise ValueError("sample_weight must be finite and >= 0.")
                base = np.repeat(sw.astype(np.float32)[:, None], len(tasks), axis=1)
            if not base.any():
                raise ValueError("Sample weights must contain at least one non-zero number.")
        return {
            t.name: base[:, j] * encoded[t.name].labelled.astype(np.float32)
            for j, t in enumerate(tasks)
        }

    def _class_weights(self, tasks, encoded) -> dict[str, np.ndarray | None]:
        if "class_weight" not in self._get_param_names():
            return dict.fromkeys((t.name for t in tasks), None)
        value = self.class_weight
        names = [t.name for t in tasks]
        # {label: weight} for a single-task model (sklearn's convention). A
        # per-task entry is never a number, so {0: 5} is a label dict even
        # when the only task is named "0".
        if (
            isinstance(value, Mapping)
            and len(tasks) == 1
            and value
            and (
                not all(str(k) in names or k == "*" for k in value)
                or all(isinstance(v, numbers.Real) for v in value.values())
            )
        ):
            value = {names[0]: value}
        saved, self.class_weight = self.class_weight, value
        try:
            per_task = self._per_task_values("class_weight", tasks, None, lambda n, v: None)
        finally:
            self.class_weight = saved
        out = {}
        for task in tasks:
            spec = per_task[task.name]
            if spec is None or task.type == "continuous" or task.name not in encoded:
                out[task.name] = None
                continue
            enc = encoded[task.name]
            if task.type == "multilabel":
                pos = enc.target[enc.labelled].sum(axis=0)
                neg = enc.labelled.sum() - pos
                if spec == "balanced":
                    w = np.where(pos > 0, neg / np.maximum(pos, 1), 1.0)
                else:
                    w = self._label_weights(task, spec)
            else:
                if spec == "balanced":
                    counts = np.bincount(enc.target[enc.labelled], minlength=len(task.classes))
                    w = counts.sum() / (len(task.classes) * np.maximum(counts, 1))
                else:
                    w = self._label_weights(task, spec)
            out[task.name] = np.asarray(w, dtype=np.float32)
        return out

    @staticmethod
    def _label_weights(task: Task, spec) -> np.ndarray:
        if not isinstance(spec, Mapping):
            raise ValueError(
                f"class_weight for task {task.name!r} must be None, 'balanced' or a dict "
                f"{{label: weight}}, got {spec!r}."
            )
        classes = task.classes.tolist()
        unknown = [k for k in spec if k not in classes]
        if unknown:
            raise ValueError(
                f"class_weight for task {task.name!r} names unknown labels {unknown}; "
                f"the labels are {classes}."
            )
        w = np.array([float(spec.get(c, 1.0)) for c in classes])
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"class_weight for task {task.name!r} must be finite and >= 0.")
        return w

    def _task_thresholds(self, tasks) -> dict[str, np.ndarray]:
        if "threshold" not in self._get_param_names():
            return {}
        ml = [t for t in tasks if t.type == "multilabel"]

        def check(name, v):
            arr = np.asarray(v, dtype=np.float64)
            if arr.ndim > 1 or not np.all((arr >= 0) & (arr <= 1)):
                raise ValueError(
                    f"threshold for task {name!r} must be a number or per-label array in [0, 1], "
                    f"got {v!r}."
                )

        value = self.threshold
        if isinstance(value, Mapping):
            known = [t.name for t in tasks]
            unknown = [k for k in value if str(k) not in known and k != "*"]
            if unknown:
                raise ValueError(f"threshold names unknown tasks {unknown}; the tasks are {known}.")
            value = {k: v for k, v in value.items() if k == "*" or str(k) in {t.name for t in ml}}
        saved, self.threshold = self.threshold, value
        try:
            per_task = self._per_task_values("threshold", ml, 0.5, check)
        finally:
            self.threshold = saved
        out = {}
        for task in ml:
            arr = np.asarray(per_task[task.name], dtype=np.float64)
            if arr.ndim == 1 and len(arr) != task.n_outputs:
                raise ValueError(
                    f"threshold for task {task.name!r} has {len(arr)} values but the task has "
                    f"{task.n_outputs} labels."
                )
            out[task.name] = arr
        return out

    # ------------------------------------------------------------ training

    def _build_module(self, inputs, tasks: list[Task]):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, numbers.Integral) else tuple(sizes)
        if self.encoder is None:
            trunk = MLPTrunk(
                inputs.n_features, sizes, self.activation, self.dropout, self.normalization
            )
        else:
            trunk = EncoderTrunk(
                self.encoder_.build_module(),
                sizes,
                self.activation,
                self.dropout,
                self.normalization,
            )
        heads = {
            t.name: TaskHead(
                trunk.out_features,
                t.n_outputs,
                tuple(self.head_hidden_layer_sizes),
                self.activation,
                self.dropout,
            )
            for t in tasks
        }
        weighting = clone(self.weighting) if self.weighting is not None else EqualWeighting()
        state = weighting.init([t.name for t in tasks])
        return MultiTaskNetwork(trunk, heads, state), weighting

    def _fit(self, inputs, layout, tasks, encoded, row_weights, task_weights, class_weights):
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        device = self._resolve_device()
        warm = self.warm_start and hasattr(self, "module_")
        with torch.random.fork_rng(devices=rng_devices(device)):
            torch.manual_seed(seed)
            if not warm:
                module, weighting = self._build_module(inputs, tasks)
                module.to(device)
                optimizer = self._make_optimizer(module.parameters(), device)
                history = History()
            else:
                module, weighting, optimizer = self.module_, self.weighting_, self.optimizer_
                for group in optimizer.param_groups:
                    group["lr"], group["weight_decay"] = self.learning_rate, self.weight_decay
                history = self.history_
            start_epoch = len(history)
            best_epoch = self._train(
                module,
                weighting,
                optimizer,
                history,
                inputs,
                tasks,
                encoded,
                row_weights,
                task_weights,
                class_weights,
                rng,
                device,
            )
        self.module_ = module
        self.optimizer_ = optimizer
        self.weighting_ = weighting
        self.history_ = history
        self.tasks_ = {t.name: t for t in tasks}
        self._layout = layout
        self.device_ = device
        self.n_iter_ = len(history) - start_epoch
        self.best_epoch_ = best_epoch
        self._set_classes(tasks, layout)
        return self

    def _train(
        self,
        module,
        weighting,
        optimizer,
        history,
        inputs,
        tasks,
        encoded,
        row_weights,
        task_weights,
        class_weights,
        rng,
        device,
        frozen=(),
    ):
        """The epoch loop over ``tasks``; appends to ``history``, returns the best epoch.

        Only the given tasks' heads produce losses, so :meth:`add_tasks` can
        train new heads alone while the rest of the network is frozen.
        """
        n = len(inputs)
        names = [t.name for t in tasks]
        fit_rows = np.arange(n)
        valid_rows = None
        if self.early_stopping:
            n_valid = max(1, int(round(self.validation_fraction * n)))
            if n - n_valid < 1:
                raise ValueError(
                    f"early_stopping needs more samples: {n} rows leave none for training "
                    f"with validation_fraction={self.validation_fraction}."
                )
            perm = rng.permutation(n)
            valid_rows, fit_rows = np.sort(perm[:n_valid]), np.sort(perm[n_valid:])
        types = {t.name: t.type for t in tasks}
        targets = {t: torch.from_numpy(encoded[t].target[fit_rows]).to(device) for t in names}
        weights = {t: torch.from_numpy(row_weights[t][fit_rows]).to(device) for t in names}
        cw = {
            t: None if class_weights[t] is None else torch.from_numpy(class_weights[t]).to(device)
            for t in names
        }
        tw = torch.from_numpy(task_weights).to(device)
        X_fit = inputs.take(fit_rows)
        X_valid = inputs.take(valid_rows) if valid_rows is not None else None

        best_score, best_state, best_epoch, stall = -np.inf, None, None, 0
        start_epoch = len(history)
        batch = int(self.batch_size)
        for epoch in range(start_epoch + 1, start_epoch + int(self.max_epochs) + 1):
            tic = time.perf_counter()
            module.train()
            for part in frozen:  # frozen layers keep eval-mode dropout and batch-norm stats
                part.eval()
            order = rng.permutation(len(fit_rows))
            order_t = torch.from_numpy(order).to(device)
            Xp = X_fit.take(order)
            tgt = {t: targets[t].index_select(0, order_t) for t in names}
            wts = {t: weights[t].index_select(0, order_t) for t in names}
            stats = EpochStats(names, device)
            for a in range(0, len(order), batch):
                b = min(a + batch, len(order))
                if b - a < 2 and self.normalization == "batch" and a > 0:
                    continue  # BatchNorm cannot train on a single row
                out = module(move_batch(Xp.batch(a, b), device))
                losses = torch.stack(
                    [
                        masked_task_loss(types[t], out[t], tgt[t][a:b], wts[t][a:b], cw[t])
                        for t in names
                    ]
                )
                present = torch.stack([wts[t][a:b].sum() > 0 for t in names])
                optimizer.zero_grad(set_to_none=True)
                used = weighting.backward(losses, present, tw, module.weighting, module)
                optimizer.step()
                stats.add(losses, present, used)
            weighting.end_epoch(stats.task_loss())
            record = stats.record(epoch)
            if self.record_gradients:
                record.update(
                    _probe_gradients(
                        module,
                        X_fit,
                        [(t, types[t], targets[t], weights[t], cw[t]) for t in names],
                        batch,
                        device,
                    )
                )
            if X_valid is not None:
                scores = self._encoded_scores(
                    module,
                    X_valid,
                    tasks,
                    {t: e for t, e in encoded.items()},
                    valid_rows,
                    device,
                )
                record["task_valid_score"] = scores
                valid = [s for s in scores.values() if np.isfinite(s)]
                record["valid_score"] = float(np.mean(valid)) if valid else float("nan")
            record["dur"] = time.perf_counter() - tic
            history.append(record)
            if self.verbose:
                self._print_epoch(record)
            if X_valid is not None:
                score = record["valid_score"]
                if np.isfinite(score) and score > best_score + self.tol:
                    best_score, best_epoch, stall = score, epoch, 0
                    best_state = copy.deepcopy(module.state_dict())
                else:
                    stall += 1
                    if stall >= self.n_iter_no_change:
                        if self.verbose:
                            print(
                                f"Early stopping: no improvement in {stall} epochs; "
                                f"restoring epoch {best_epoch}."
                            )
                        break
        if best_state is not None:
            module.load_state_dict(best_state)
        return best_epoch

    def add_tasks(self, X, y, *, freeze_shared: bool = True, sample_weight=None):
        """Add a head for each new task in ``y`` and train only what is new.

        Transfer learning for a low-resource task: the shared trunk (and the
        existing heads) learned from the high-resource tasks stay frozen, and
        only the new heads are trained, for ``max_epochs`` epochs with the
        estimator's optimiser settings. Afterwards the model predicts every
        task, old and new. ``task_weights``, ``tasks``, ``class_weight`` and
        ``threshold`` may name the new tasks.

        Parameters
        ----------
        X : array-like, sparse matrix or list of str
            Inputs, as in ``fit``.
        y : DataFrame or dict
            The new tasks only, named (the model must have been fitted on a
            DataFrame or dict too); missing labels are allowed.
        freeze_shared : bool, default=True
            Keep the trunk and existing heads fixed. With False the trunk is
            fine-tuned together with the new heads (existing heads stay fixed).
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_new_tasks)
            Row weights.

        Returns
        -------
        self : object
            The estimator, now with the new tasks in ``tasks_``.
        """
        check_is_fitted(self, "module_")
        self._validate_params()
        if self._layout.kind not in ("frame", "dict"):
            raise ValueError(
                "add_tasks needs named tasks: fit the model with Y as a DataFrame or dict."
            )
        inputs = self._inputs(X, fitting=False)
        layout, columns = split_targets(y)
        if layout.kind != self._layout.kind:
            raise ValueError(
                f"add_tasks: y must be a {'DataFrame' if self._layout.kind == 'frame' else 'dict'}"
                " like the Y the model was fitted on."
            )
        n_rows = {len(c) for c in columns.values()}.pop()
        if n_rows != len(inputs):
            raise ValueError(
                f"X has {len(inputs)} samples but y has {n_rows} rows; they must match."
            )
        clash = [c for c in columns if c in self.tasks_]
        if clash:
            raise ValueError(f"add_tasks: tasks {clash} already exist; give new task names.")
        old_tasks = list(self.tasks_.values())
        spec = {k: v for k, v in (self.tasks or {}).items() if str(k) not in self.tasks_}
        new_tasks, raw = resolve_tasks(
            layout,
            columns,
            spec or None,
            self._allowed_types,
            self._forced_type,
            type(self).__name__,
        )
        all_tasks = old_tasks + new_tasks
        encoded = {t.name: encode_task(t, raw[t.name]) for t in new_tasks}
        row_weights = self._row_weights(sample_weight, len(inputs), new_tasks, encoded)
        task_weights = self._task_weight_vector(all_tasks)[len(old_tasks) :]
        class_weights = self._class_weights(all_tasks, encoded)
        self._task_thresholds(all_tasks)

        module, device = self.module_, self.device_
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        with torch.random.fork_rng(devices=rng_devices(device)):
            torch.manual_seed(seed)
            width = module.trunk.out_features
            heads = {
                t.name: TaskHead(
                    width,
                    t.n_outputs,
                    tuple(self.head_hidden_layer_sizes),
                    self.activation,
                    self.dropout,
                ).to(device)
                for t in new_tasks
            }
            old_heads = [module.head(t.name) for t in old_tasks]
            for name, head in heads.items():
                module.add_head(name, head)
            frozen = old_heads + ([module.trunk] if freeze_shared else [])
            for part in frozen:
                part.requires_grad_(False)
            weighting = clone(self.weighting) if self.weighting is not None else EqualWeighting()
            state = weighting.init([t.name for t in new_tasks])
            trainable = [p for h in heads.values() for p in h.parameters()]
            if not freeze_shared:
                trainable += list(module.trunk.parameters())
            if state is not None:
                state.to(device)
                trainable += list(state.parameters())
            optimizer = self._make_optimizer(trainable, device)
            # The strategy's state lives beside the network while the new heads train.
            saved_state, module.weighting = module.weighting, state
            try:
                start = len(self.history_)
                self._train(
                    module,
                    weighting,
                    optimizer,
                    self.history_,
                    inputs,
                    new_tasks,
                    encoded,
                    row_weights,
                    task_weights,
                    class_weights,
                    rng,
                    device,
                    frozen=frozen,
                )
            finally:
                module.weighting = saved_state
                for part in frozen:
                    part.requires_grad_(True)
            # A later warm-start fit trains every task: give it a fresh optimiser and
            # weighting state over all of them.
            self.weighting_ = (
                clone(self.weighting) if self.weighting is not None else EqualWeighting()
            )
            module.weighting = self.weighting_.init([t.name for t in all_tasks])
            if module.weighting is not None:
                module.weighting.to(device)
            self.optimizer_ = self._make_optimizer(module.parameters(), device)
        self.tasks_ = {t.name: t for t in all_tasks}
        self._layout = TargetLayout(self._layout.kind, self._layout.columns + layout.columns)
        self.n_iter_ = len(self.history_) - start
        self._set_classes(all_tasks, self._layout)
        return self

    def _set_classes(self, tasks, layout) -> None:
        """Classifier estimators expose ``classes_``: an array for one 1-D task."""

    @staticmethod
    def _print_epoch(record) -> None:
        parts = [f"epoch {record['epoch']:4d}", f"train_loss {record['train_loss']:.4f}"]
        parts += [f"{t} {v:.4f}" for t, v in record["task_loss"].items()]
        if "valid_score" in record:
            parts.append(f"valid_score {record['valid_score']:.4f}")
        parts.append(f"{record['dur']:.2f}s")
        print(" | ".join(parts), flush=True)

    # ------------------------------------------------------------ inference

    def _forward_numpy(self, module, inputs, tasks, device) -> dict[str, np.ndarray]:
        """Head outputs (probabilities or standardised values), in batches."""
        module.eval()
        outs = {t.name: [] for t in tasks}
        with torch.inference_mode():
            for a in range(0, len(inputs), _PREDICT_BATCH):
                b = min(a + _PREDICT_BATCH, len(inputs))
                result = module(move_batch(inputs.batch(a, b), device))
                for t in tasks:
                    outs[t.name].append(head_output_to_numpy(t.type, result[t.name]))
        return {
            t.name: np.concatenate(outs[t.name]) if outs[t.name] else np.zeros((0, t.n_outputs))
            for t in tasks
        }

    def _encoded_scores(self, module, X, tasks, encoded, rows, device) -> dict[str, float]:
        outputs = self._forward_numpy(module, X, tasks, device)
        thresholds = self._task_thresholds(tasks)
        scores = {}
        for t in tasks:
            enc = encoded[t.name]
            target, labelled = enc.target[rows], enc.labelled[rows]
            scores[t.name] = _default_score(
                t, target, labelled, outputs[t.name], thresholds.get(t.name, 0.5), None
            )
        return scores

    def _outputs(self, X) -> dict[str, np.ndarray]:
        check_is_fitted(self, "module_")
        inputs = self._inputs(X, fitting=False)
        return self._forward_numpy(self.module_, inputs, list(self.tasks_.values()), self.device_)

    def predict(self, X):
        """Predict every task, in the label space and layout of the Y used in fit.

        Returns
        -------
        Y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks), DataFrame or dict
            Same layout as the fitted Y: a DataFrame for a DataFrame (same
            columns), a dict for a dict. Multilabel cells are tuples of labels.
        """
        outputs = self._outputs(X)
        tasks = list(self.tasks_.values())
        thresholds = self._task_thresholds(tasks)
        decoded = {
            t.name: decode_predictions(t, outputs[t.name], thresholds.get(t.name, 0.5))
            for t in tasks
        }
        return assemble(self._layout, tasks, decoded)

    def score(self, X, y, sample_weight=None) -> float:
        """Mean over tasks of each task's default metric, on its labelled rows.

        The default metrics: accuracy (binary, multiclass), macro-F1 over the
        labels present in truth or prediction (multilabel), R^2 (continuous).
        Labels never seen in fit raise a ValueError.
        """
        outputs = self._outputs(X)
        tasks = list(self.tasks_.values())
        raw = columns_for(self._layout, tasks, y)
        n_rows = {len(c) for c in raw.values()}.pop()
        n = next(iter(outputs.values())).shape[0]
        if n_rows != n:
            raise ValueError(f"X has {n} samples but Y has {n_rows} rows; they must match.")
        sw = None
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float64)
            if sw.shape not in ((n,), (n, len(tasks))):
                raise ValueError(
                    f"sample_weight of shape {sw.shape} must be (n_samples,) or "
                    f"(n_samples, n_tasks) = {(n, len(tasks))}."
                )
            if not np.all(np.isfinite(sw)) or np.any(sw < 0):
                raise ValueError("sample_weight must be finite and >= 0.")
        thresholds = self._task_thresholds(tasks)
        scores = []
        for j, t in enumerate(tasks):
            enc = encode_task(t, raw[t.name], check_unseen=True)
            if not enc.labelled.any():
                continue
            w = None if sw is None else (sw[:, j] if sw.ndim == 2 else sw)
            scores.append(
                _default_score(
                    t, enc.target, enc.labelled, outputs[t.name], thresholds.get(t.name, 0.5), w
                )
            )
        if not scores:
            raise ValueError("Y has no labelled row for any task; nothing to score.")
        return float(np.mean(scores))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.encoder is None:
            tags.input_tags.sparse = True
        else:  # raw texts in
            tags.input_tags.two_d_array = False
            tags.input_tags.string = True
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        return tags


def _probe_gradients(module, X_fit, task_specs, batch: int, device) -> dict[str, dict]:
    """Per-task gradients of the shared parameters on the first ``batch`` training rows.

    Runs in eval mode and restores each submodule's mode afterwards; uses
    ``torch.autograd.grad``, so no ``.grad`` is touched and no random number
    is drawn: the optimisation is exactly as without the probe.
    """
    m = min(batch, len(X_fit))
    names = [spec[0] for spec in task_specs]
    nan = float("nan")
    result = {
        "grad_norm": dict.fromkeys(names, nan),
        "grad_cosine": {f"{a}|{b}": nan for i, a in enumerate(names) for b in names[i + 1 :]},
    }
    shared = list(module.shared_parameters())
    if m < 1 or not shared:
        return result
    modes = {mod: mod.training for mod in module.modules()}
    flags = [p.requires_grad for p in shared]
    try:
        module.eval()
        for p in shared:  # a frozen trunk (add_tasks) still gets diagnosed
            p.requires_grad_(True)
        with torch.enable_grad():
            out = module(move_batch(X_fit.batch(0, m), device))
            grads = {}
            for name, task_type, target, weight, cw in task_specs:
                w = weight[:m]
                if not bool(w.sum() > 0):
                    continue
                loss = masked_task_loss(task_type, out[name], target[:m], w, cw)
                g = torch.autograd.grad(loss, shared, retain_graph=True, allow_unused=True)
                grads[name] = torch.cat(
                    [_dense(gi, p).reshape(-1) for gi, p in zip(g, shared, strict=True)]
                ).double()
    finally:
        for p, flag in zip(shared, flags, strict=True):
            p.requires_grad_(flag)
        for mod, mode in modes.items():
            mod.training = mode
    norms = {name: g.norm() for name, g in grads.items()}
    for name in grads:
        result["grad_norm"][name] = float(norms[name])
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if a in grads and b in grads and norms[a] > 0 and norms[b] > 0:
                cosine = grads[a] @ grads[b] / (norms[a] * norms[b])
                result["grad_cosine"][f"{a}|{b}"] = float(cosine.clamp(-1.0, 1.0))
    return result


def _dense(grad, param) -> torch.Tensor:
    if grad is None:
        return torch.zeros_like(param)
    return grad.to_dense() if grad.is_sparse else grad


def _default_score(task: Task, target, labelled, output, threshold, sample_weight) -> float:
    """A task's default metric on encoded targets (NaN when no row is labelled)."""
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
            return 1.0  # nothing true and nothing predicted: all correct
        return float(
            f1_score(
                truth[:, keep], pred[:, keep], average="macro", zero_division=0, sample_weight=sw
            )
        )
    return float(r2_score(target[labelled], output[labelled], sample_weight=sw))
