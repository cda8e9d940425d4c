"""The private base of every multi-task estimator: one template over one engine.

Public ``fit`` validates and encodes (template method) and a subclass supplies
only what differs: how X becomes model inputs (:meth:`_prepare_inputs`), how Y
becomes tasks (:meth:`_resolve_tasks`), its shared layers (:meth:`_make_stack`),
its batch order (:meth:`_make_sampler`) and how predictions are laid out
(:meth:`_assemble`). Training is :class:`skmtl.engine.Engine`'s; networks are an
architecture (:mod:`skmtl.architectures`) over the stack plus one head per task
(:mod:`skmtl.tasks`); the loss weighting is a strategy from
:mod:`skmtl.weighting`.

A fit that fails leaves a previously fitted model exactly as it was: the new
state is built aside and swapped in at the end.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._history import History
from ._params import check_task_weight, per_task_values
from ._torch_base import TorchEstimatorMixin, rng_devices
from .architectures import HardSharing
from .engine import (
    EarlyStopping,
    Engine,
    GradientRecorder,
    MultiTaskNetwork,
    PrintProgress,
    TrainingData,
    WeightAveraging,
    predict,
)
from .metrics import task_score
from .sampling import resolve_task_sampling
from .tasks import TargetLayout, columns_for, infer_task_type, is_label_set, split_targets
from .utils import is_missing, missing_mask, torch_threads, user_stacklevel
from .weighting import EqualWeighting

__all__ = ["BaseMultiTaskEstimator"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)


class BaseMultiTaskEstimator(TorchEstimatorMixin, BaseEstimator):
    """Shared layers + one head per task, trained jointly on masked task losses.

    Subclasses define ``__init__`` (parameters only) and the hooks
    :meth:`_prepare_inputs`, :meth:`_resolve_tasks`, :meth:`_make_stack`,
    :meth:`_make_sampler` and :meth:`_assemble`.
    """

    @staticmethod
    def _validation_rows(rows, n: int):
        """``fit``'s ``validation_rows`` as sorted row indices (None when not given)."""
        return _validation_index(rows, n)

    # Per-task dict parameters: ``set_params(task_weights__emotion=2)`` sets one entry.
    _PER_TASK_PARAMS = ("task_weights", "threshold", "class_weight", "min_labels")

    # ------------------------------------------------------------ hooks

    def _check_params(self) -> None:
        """Validate the subclass's own parameters (ValueError naming the parameter)."""

    def _prepare_inputs(self, X, *, fitting: bool):
        """``(inputs, context, fitted)``: model inputs, the context task encoding
        needs (e.g. sentence lengths), and new fitted attributes to set at the end
        of a successful fit (e.g. ``encoder_``)."""
        raise NotImplementedError

    def _split_targets(self, y, n_samples: int) -> tuple[TargetLayout, dict]:
        layout, columns = split_targets(y)
        n_rows = {len(c) for c in columns.values()}.pop()
        if n_rows != n_samples:
            raise ValueError(f"X has {n_samples} samples but Y has {n_rows} rows; they must match.")
        return layout, columns

    def _resolve_tasks(self, layout, columns, context, spec, existing=()) -> tuple[list, dict]:
        """``(tasks, raw columns by task)`` of a training Y; ``spec`` is ``self.tasks``
        (or its part for new tasks); ``existing``: the names of the tasks the model
        already has (``add_tasks``)."""
        raise NotImplementedError

    def _make_stack(self, fitted: dict):
        """The :class:`~skmtl.architectures.SharedStack` of this estimator's shared layers.

        It depends only on the parameters and the fitted attributes (``fitted``:
        those of the fit in progress), so a saved model can rebuild its network.
        """
        raise NotImplementedError

    def _make_sampler(self, inputs):
        raise NotImplementedError

    def _assemble(self, tasks, decoded: dict, context: dict):
        """Per-task decoded columns in the layout of the fitted Y."""
        raise NotImplementedError

    def _fitted_extras(self, tasks, layout) -> dict:
        """More fitted attributes derived from the tasks (``classes_``)."""
        return {}

    # ------------------------------------------------------------ validation

    def _validate_params(self) -> None:
        self._check_training_params()
        arch = getattr(self, "architecture", None)
        if arch is not None and not (hasattr(arch, "build") and hasattr(arch, "get_params")):
            raise ValueError(
                "architecture must be None or a sharing architecture such as "
                f"skmtl.architectures.MMoE(), got {arch!r}."
            )
        resolve_task_sampling(getattr(self, "task_sampling", None))  # a clear error now
        decay = getattr(self, "weight_averaging", 0.0)
        if isinstance(decay, bool) or not isinstance(decay, numbers.Real) or not 0 <= decay < 1:
            raise ValueError(f"weight_averaging must be a float in [0, 1), got {decay!r}.")
        tol = getattr(self, "tol", 0.0)
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not np.isfinite(tol):
            raise ValueError(f"tol must be a finite number, got {tol!r}.")
        for name in ("learning_rate", "weight_decay"):
            value = getattr(self, name)
            if isinstance(value, numbers.Real) and not np.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}.")
        self._check_params()

    def _task_weight_vector(self, tasks) -> np.ndarray:
        names = [t.name for t in tasks]
        weights = per_task_values("task_weights", self.task_weights, names, 1.0, check_task_weight)
        vector = np.array([float(weights[n]) for n in names], dtype=np.float32)
        if not vector.any():
            raise ValueError(
                f"task_weights are 0 for every task {names}: nothing would be trained. "
                "Give at least one task a weight > 0."
            )
        return vector

    def _row_weights(self, sample_weight, n: int, tasks) -> dict[str, np.ndarray]:
        """Each task's per-row weight (float32), from ``sample_weight``."""
        k = len(tasks)
        if sample_weight is None:
            base = np.ones((n, k), dtype=np.float32)
        else:
            try:
                sw = np.asarray(sample_weight, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    "sample_weight must be numeric, got values like "
                    f"{np.asarray(sample_weight, dtype=object).ravel()[:3].tolist()!r}."
                ) from None
            if sw.shape not in ((n,), (n, k)):
                raise ValueError(
                    f"sample_weight has shape {sw.shape}, expected {(n,)} or "
                    f"(n_samples, n_tasks) = {(n, k)}."
                )
            if not np.all(np.isfinite(sw)) or np.any(sw < 0):
                raise ValueError("sample_weight must be finite and >= 0.")
            if np.any(sw > _FLOAT32_MAX):
                raise ValueError(
                    f"sample_weight has values over {_FLOAT32_MAX:.3g} that overflow float32; "
                    "rescale them (only their ratios matter)."
                )
            if not sw.any():
                raise ValueError("sample_weight must contain at least one non-zero number.")
            base = sw.astype(np.float32)
            if base.ndim == 1:
                base = np.repeat(base[:, None], k, axis=1)
        return {t.name: base[:, j] for j, t in enumerate(tasks)}

    def _class_weights(self, tasks, encoded) -> dict[str, np.ndarray | None]:
        if "class_weight" not in self._get_param_names():
            return dict.fromkeys((t.name for t in tasks), None)
        value, names = self.class_weight, [t.name for t in tasks]
        # {label: weight} for a single-task model (sklearn's convention). A
        # per-task entry is never a number, so {0: 5} is a label dict even
        # when the only task is named "0".
        if (
            isinstance(value, Mapping)
            and len(tasks) == 1
            and value
            and (
                not all(str(k) in names for k in value)
                or all(isinstance(v, numbers.Real) for v in value.values())
            )
        ):
            value = {names[0]: value}
        per_task = per_task_values("class_weight", value, names, None)
        return {
            t.name: None
            if per_task[t.name] is None or t.name not in encoded
            else t.class_weights(per_task[t.name], encoded[t.name])
            for t in tasks
        }

    def _task_thresholds(self, tasks) -> dict[str, np.ndarray]:
        """Decision thresholds of the multilabel tasks (no state is changed: thread-safe)."""
        if "threshold" not in self._get_param_names():
            return {}
        ml = [t for t in tasks if t.type == "multilabel"]
        value, known = self.threshold, [t.name for t in tasks]
        if isinstance(value, Mapping):
            unknown = [k for k in value if str(k) not in known]
            if unknown:
                raise ValueError(f"threshold names unknown tasks {unknown}; the tasks are {known}.")
            keep = {t.name for t in ml}
            filtered = type(value)() if not hasattr(value, "default") else copy.copy(value)
            filtered.clear()
            filtered.update({k: v for k, v in value.items() if str(k) in keep})
            value = filtered

        def check(name, v):
            arr = np.asarray(v, dtype=np.float64)
            if arr.ndim > 1 or not np.all((arr >= 0) & (arr <= 1)):
                raise ValueError(
                    f"threshold for task {name!r} must be a number or per-label array in [0, 1], "
                    f"got {v!r}."
                )

        per_task = per_task_values("threshold", value, [t.name for t in ml], 0.5, check)
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

    # ------------------------------------------------------------ data

    def _training_data(self, inputs, context, tasks, raw, sample_weight) -> TrainingData:
        encoded = {t.name: t.encode(raw[t.name], **context) for t in tasks}
        return TrainingData(
            inputs,
            encoded,
            self._row_weights(sample_weight, len(inputs), tasks),
            self._class_weights(tasks, encoded),
            self._task_weight_vector(tasks),
        )

    def prepare_data(self, X, y, sample_weight=None) -> TrainingData:
        """The inputs and encoded targets of the fitted tasks, as the engine trains on them.

        For diagnostics and custom loops (:mod:`skmtl.diagnostics` uses it):
        ``X`` and ``y`` are validated and encoded with the fitted label spaces.
        """
        check_is_fitted(self, "module_")
        inputs, context, _ = self._prepare_inputs(X, fitting=False)
        tasks = list(self.tasks_.values())
        raw = columns_for(self.target_layout_, tasks, y)
        n_rows = {len(c) for c in raw.values()}.pop()
        if n_rows != len(inputs):
            raise ValueError(
                f"X has {len(inputs)} samples but Y has {n_rows} rows; they must match."
            )
        return self._training_data(inputs, context, tasks, raw, sample_weight)

    # ------------------------------------------------------------ fit

    def fit(self, X, y, sample_weight=None, validation_rows=None):
        """Fit the model on X and the multi-task targets Y.

        Parameters
        ----------
        X : array-like, sparse matrix, or list of texts / token lists
            The inputs (see the estimator's description).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks), DataFrame or dict
            The targets Y: one column per task (DataFrame columns / dict keys are task
            names). NaN, None or pd.NA mark a missing label.
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Per-row weights, shared by all tasks or given per task.
        validation_rows : array-like of bool of shape (n_samples,) or of int, default=None
            The rows of X and y that form the validation set (e.g. an official
            dev split appended to the training rows): they are never trained
            on. With ``early_stopping=True`` they replace the random
            ``validation_fraction`` split; otherwise their scores are only
            recorded, each epoch, in ``history_`` (``"valid_score"``,
            ``"task_valid_score"``). One entry per row, so a ``Pipeline``
            passes it as ``<step>__validation_rows`` and ``GridSearchCV``
            splits it with the folds.

        Returns
        -------
        self : object
            The fitted estimator. If fitting fails, a previously fitted model is
            left exactly as it was. A KeyboardInterrupt during training stops
            at the end of the current batch and keeps a consistent model (the
            best weights so far with early stopping), with a warning.
        """
        return self._swap_in(self._fit, X, y, sample_weight, validation_rows)

    def _swap_in(self, build, *args):
        """Set the fitted attributes ``build(*args)`` returns; on any error (or Ctrl-C
        before training) restore every attribute as it was, and re-raise."""
        snapshot = dict(self.__dict__)
        try:
            with torch_threads():  # the worker's share of the cores (skmtl.utils)
                state = build(*args)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise
        self.__dict__.update(state)
        return self

    def _fit(self, X, y, sample_weight, validation_rows=None) -> dict:
        self._validate_params()
        warm = self.warm_start and hasattr(self, "module_")
        inputs, context, fitted = self._prepare_inputs(X, fitting=not warm)
        validation = _validation_index(validation_rows, len(inputs))
        layout, columns = self._split_targets(y, len(inputs))
        if warm:
            tasks, layout = list(self.tasks_.values()), self.target_layout_
            raw = columns_for(layout, tasks, y)
        else:
            tasks, raw = self._resolve_tasks(layout, columns, context, self.tasks)
        data = self._training_data(inputs, context, tasks, raw, sample_weight)
        self._task_thresholds(tasks)  # validate before a long fit
        if getattr(self, "normalization", None) == "batch" and len(inputs) < 2:
            raise ValueError(
                f"normalization='batch' needs at least 2 training rows, got {len(inputs)}."
            )
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        device = self._resolve_device()
        with torch.random.fork_rng(devices=rng_devices(device)):
            torch.manual_seed(seed)
            if warm:
                network, weighting, optimizer = self._continued(device)
                history = History(self.history_)
            else:
                network, weighting = self._build_network(tasks, fitted)
                network.to(device)
                optimizer = self._make_optimizer(network.parameters(), device)
                history = History()
            start = len(history)
            best_epoch = self._run(
                network,
                tasks,
                weighting,
                optimizer,
                data,
                rng,
                device,
                history,
                validation=validation,
            )
        return {
            **fitted,
            "module_": network,
            "optimizer_": optimizer,
            "weighting_": weighting,
            "history_": history,
            "tasks_": {t.name: t for t in tasks},
            "target_layout_": layout,
            "device_": device,
            "n_iter_": len(history) - start,
            "best_epoch_": best_epoch,
            **self._fitted_extras(tasks, layout),
        }

    def _continued(self, device):
        """Copies of the fitted network, strategy and optimiser to continue training on.

        The optimiser is rebuilt over the copy's parameters and given the old
        state (moments, step counts): this also works after pickling or
        ``copy.deepcopy``, where a restored optimiser would hold stale copies.
        """
        network = copy.deepcopy(self.module_).to(device)
        weighting = copy.deepcopy(self.weighting_)
        optimizer = self._make_optimizer(network.parameters(), device)
        optimizer.load_state_dict(self.optimizer_.state_dict())
        for group in optimizer.param_groups:
            lr = group.get("skmtl_lr", self.learning_rate)  # a fine-tuned encoder's own rate
            group["lr"], group["weight_decay"] = lr, self.weight_decay
        return network, weighting, optimizer

    # ------------------------------------------------------------ incremental

    def _partial_fit_call(self, X, y, classes, sample_weight):
        """The body of each estimator's public ``partial_fit`` (which documents it)."""
        return self._swap_in(self._partial_fit, X, y, classes, sample_weight)

    def _partial_fit(self, X, y, classes, sample_weight) -> dict:
        """One epoch over the chunk ``(X, y)``, continuing the fitted model if there is one.

        The first call (no fitted model) fixes what a fit learns from data: the
        features (or encoder), the tasks and their label spaces (from
        ``classes``), a continuous task's standardisation (from this chunk); a
        later call continues the network and the optimiser's state on a copy,
        swapped in at the end (a failed call leaves the model as it was).
        """
        self._validate_params()
        _check_partial_fit_class_weight(getattr(self, "class_weight", None))
        first = not hasattr(self, "module_")
        inputs, context, fitted = self._prepare_inputs(X, fitting=first)
        _check_not_a_dask_key(y, len(inputs))
        layout, columns = self._split_targets(y, len(inputs))
        if first:
            tasks = self._first_chunk_tasks(layout, columns, context, classes)
        else:
            _check_later_chunk(self.target_layout_, layout, list(self.tasks_.values()), columns)
            layout, tasks = self.target_layout_, list(self.tasks_.values())
            _check_same_classes(layout, tasks, columns, classes)
        raw = columns_for(layout, tasks, y)
        for t in tasks if not first else ():  # (the first chunk's: in _first_chunk_tasks)
            if t.classes is not None and not t.block:
                _check_declared(t.name, raw[t.name], t.classes, first=False)
        data = self._training_data(inputs, context, tasks, raw, sample_weight)
        self._task_thresholds(tasks)
        if getattr(self, "normalization", None) == "batch" and len(inputs) < 2:
            raise ValueError(
                f"normalization='batch' needs at least 2 training rows, got {len(inputs)}."
            )
        # The first call draws as fit does; each later one from (random_state, calls so
        # far), so that an int random_state gives reproducible but distinct shuffles.
        rng = _partial_fit_rng(self.random_state, 0 if first else len(self.history_))
        seed = int(rng.randint(np.iinfo(np.int32).max))
        device = self._resolve_device()
        with torch.random.fork_rng(devices=rng_devices(device)):
            torch.manual_seed(seed)
            if first:
                network, weighting = self._build_network(tasks, fitted)
                network.to(device)
                optimizer = self._make_optimizer(network.parameters(), device)
                history = History()
            else:
                network, weighting, optimizer = self._continued(device)
                history = History(self.history_)
            start = len(history)
            self._run(network, tasks, weighting, optimizer, data, rng, device, history, epochs=1)
        return {
            **fitted,
            "module_": network,
            "optimizer_": optimizer,
            "weighting_": weighting,
            "history_": history,
            "tasks_": {t.name: t for t in tasks},
            "target_layout_": layout,
            "device_": device,
            "n_iter_": len(history) - start,
            "best_epoch_": None,
            **self._fitted_extras(tasks, layout),
        }

    def _first_chunk_tasks(self, layout, columns, context, classes) -> list:
        """The tasks of the first ``partial_fit`` chunk, with the declared label spaces.

        Each column with declared classes is resolved (its type inferred or taken
        from ``tasks``) as if its declared labels were appended to the chunk, so
        that its label space is exactly ``classes`` whatever the chunk shows; a
        token task's most frequent tag (for tokens cut by ``max_length``) is the
        chunk's.
        """
        declared = _declared_classes(classes, layout, columns)
        extended = {}
        for name, column in columns.items():
            labels = declared.get(name)
            labelled = ~missing_mask(column)
            if labels is None:
                if not labelled.any():
                    raise ValueError(
                        f"Task {name!r} has no labelled row in the first chunk given to "
                        "partial_fit and no declared classes. The first call fixes every "
                        "task: declare a classification task's labels in `classes`; a "
                        "continuous task learns its standardisation (mean and scale) from "
                        "the first chunk, which must then hold some of its values."
                    )
                extended[name] = column
                continue
            if column.ndim != 1:  # a 2-D block: its labels are its columns
                extended[name] = column
                continue
            kind = _spec_type(self.tasks, name) or getattr(self, "_forced_type", None)
            if kind is None and labelled.any():
                try:
                    kind = infer_task_type(column, name=name)
                except ValueError:
                    kind = None  # the task's own resolution explains it
            if kind == "continuous":
                raise ValueError(
                    f"Task {name!r} is continuous: it takes no classes, got "
                    f"{_shown(labels)} in `classes`. Give classes only for classification "
                    "tasks (set a task's type with `tasks` if it was inferred wrongly)."
                )
            _check_declared(name, column, labels, first=True)
            if labelled.any():
                as_set = is_label_set(column[np.argmax(labelled)])
            else:
                as_set = kind in ("multilabel", "token", "token_crf")
            extra = [list(labels)] if as_set else list(labels)
            cells = np.empty(len(column) + len(extra), dtype=object)
            cells[: len(column)] = column  # an array: its cells are copied, never unpacked
            for i, cell in enumerate(extra, start=len(column)):
                cells[i] = cell
            extended[name] = cells
        tasks, _ = self._resolve_tasks(layout, extended, context, self.tasks)
        for t in tasks:
            given = declared.get(t.name)
            if t.classes is None:
                if given is not None:
                    raise ValueError(
                        f"Task {t.name!r} is {t.type}: it takes no classes, got {_shown(given)} "
                        "in `classes`. Give classes only for classification tasks."
                    )
            elif t.block:
                if given is not None and _label_set(given) != _label_set(t.classes):
                    raise ValueError(
                        f"Task {t.name!r} is a 0/1 block whose labels are its columns "
                        f"{t.classes.tolist()}; `classes` gives {given.tolist()!r}."
                    )
            elif given is None:
                raise ValueError(
                    f"partial_fit needs the classes of every classification task on its first "
                    f"call (a chunk need not show every label): task {t.name!r} ({t.type}) has "
                    "none. Give classes=[...labels...] for a 1-D y, a list with one array "
                    "per column of a 2-D Y (None for a continuous column), or a dict "
                    "{task: labels}."
                )
        return tasks

    def _build_network(self, tasks, fitted: dict):
        """A fresh network (architecture over the stack, one head per task) and the
        fitted clone of the weighting strategy."""
        weighting = clone(self.weighting) if self.weighting is not None else EqualWeighting()
        state = weighting.init([t.name for t in tasks])
        stack = weighting.condition_stack(self._make_stack(fitted), state)
        arch = clone(self.architecture) if self.architecture is not None else HardSharing()
        body = arch.build(stack, [t.name for t in tasks])
        heads = {t.name: self._make_head(t, _head_width(body, t), body) for t in tasks}
        network = MultiTaskNetwork(
            body,
            heads,
            {t.name: t.level for t in tasks},
            pool=getattr(stack, "pool", None),
            weighting=state,
        )
        return network, weighting

    def _make_head(self, task, width: int, body=None):
        """The head of ``task`` reading ``width`` features (``body``: the architecture's
        module, for a head that reuses its parts)."""
        return task.make_head(
            width,
            hidden_layer_sizes=tuple(getattr(self, "head_hidden_layer_sizes", ())),
            activation=getattr(self, "activation", "relu"),
            dropout=float(getattr(self, "dropout", 0.0)),
        )

    def _run(
        self,
        network,
        tasks,
        weighting,
        optimizer,
        data,
        rng,
        device,
        history,
        frozen=(),
        validation=None,
        epochs=None,
    ):
        """Train with the engine; return the best epoch (early stopping) or None.

        ``validation``: indices of the rows that only validate (``fit``'s
        ``validation_rows``); else ``early_stopping`` holds out a random share.
        ``epochs``: run exactly this many epochs, with no early stopping and no
        convergence warning (``partial_fit``); None: ``max_epochs``.
        """
        fit_data, valid = data, None
        if validation is not None:
            keep = np.setdiff1d(np.arange(len(data)), validation)
            valid, fit_data = data.take(validation), data.take(keep)
        elif self.early_stopping and epochs is None:
            n = len(data)
            n_valid = max(1, int(round(self.validation_fraction * n)))
            if n - n_valid < 1:
                raise ValueError(
                    f"early_stopping needs more samples: {n} rows leave none for training "
                    f"with validation_fraction={self.validation_fraction}."
                )
            perm = rng.permutation(n)
            valid = data.take(np.sort(perm[:n_valid]))
            fit_data = data.take(np.sort(perm[n_valid:]))
        callbacks = self._callbacks()
        if getattr(self, "weight_averaging", 0.0) > 0:
            callbacks.append(WeightAveraging(self.weight_averaging))
        if self.record_gradients:
            callbacks.append(GradientRecorder(int(self.batch_size)))
        if self.verbose:  # before the stopper: the bars close before its early-stopping line
            callbacks.append(PrintProgress(int(self.verbose)))
        stopper = None
        if valid is not None:
            stopper = EarlyStopping(
                self._scorer(tasks, valid, device, self._condition(weighting, fitting=True)),
                self.tol,
                self.n_iter_no_change,
                self.verbose,
                stop=bool(self.early_stopping),
            )
            callbacks.append(stopper)
        engine = Engine(
            network,
            tasks,
            weighting=weighting,
            optimizer=optimizer,
            sampler=self._make_sampler(fit_data.inputs),
            max_epochs=self.max_epochs if epochs is None else epochs,
            device=device,
            callbacks=callbacks,
            frozen=frozen,
            min_batch_rows=2 if getattr(self, "normalization", None) == "batch" else 1,
            task_sampler=resolve_task_sampling(getattr(self, "task_sampling", None)),
        )
        start = len(history)
        engine.fit(fit_data, history, rng)
        if epochs is None and not (engine.stop_training or engine.interrupted):
            _warn_if_still_improving(history[start:], self.n_iter_no_change, self.tol)
        return None if stopper is None or not stopper.stop else stopper.best_epoch

    def _callbacks(self) -> list:
        """Engine callbacks of this estimator's own (before the common ones)."""
        return []

    def _scorer(self, tasks, valid: TrainingData, device, condition=None):
        thresholds = self._task_thresholds(tasks)

        def score(network) -> dict[str, float]:
            preds = predict(network, tasks, valid.inputs, device, condition=condition)
            return {
                t.name: t.score(
                    valid.targets[t.name], preds[t.name], threshold=thresholds.get(t.name, 0.5)
                )
                for t in tasks
            }

        return score

    # ------------------------------------------------------------ transfer

    def add_tasks(
        self, X, y, *, freeze_shared: bool = True, sample_weight=None, validation_rows=None
    ):
        """Add a head for each new task in ``y`` and train only what is new.

        Transfer learning for a low-resource task: the shared layers (and the
        existing heads) learned from the high-resource tasks stay frozen, and
        only the new heads (and what the architecture adds for them, such as
        MMoE gates or a cross-stitch column) are trained, for ``max_epochs``
        epochs with the estimator's optimiser settings. Afterwards the model
        predicts every task, old and new. ``task_weights``, ``tasks``,
        ``class_weight`` and ``threshold`` may name the new tasks.

        Parameters
        ----------
        X : array-like, sparse matrix or list
            Inputs, as in ``fit``.
        y : DataFrame or dict
            The new tasks only, named (the model must have been fitted on a
            DataFrame or dict too); missing labels are allowed.
        freeze_shared : bool, default=True
            Keep the shared layers and existing heads fixed. With False the
            shared layers are fine-tuned with the new heads (existing heads stay fixed).
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_new_tasks)
            Row weights.
        validation_rows : array-like of bool or int, default=None
            Rows of ``X`` that only validate the new heads, as in ``fit``: with
            ``early_stopping`` they replace ``validation_fraction``'s random
            split (e.g. a small dev set of the low-resource task).

        Returns
        -------
        self : object
            The estimator, now with the new tasks in ``tasks_``. If training
            fails, the model is left as it was.
        """
        check_is_fitted(self, "module_")
        return self._swap_in(self._add_tasks, X, y, freeze_shared, sample_weight, validation_rows)

    def _new_tasks(self, X, y):
        self._validate_params()
        if self.weighting_.conditions_network:
            raise ValueError(
                f"add_tasks is not available for a model trained with "
                f"{type(self.weighting_).__name__}: its network is conditioned on one weight "
                f"per task it was built for ({list(self.tasks_)}). Fit a new model on all tasks."
            )
        layout0 = self.target_layout_
        if layout0.kind not in ("frame", "dict"):
            raise ValueError(
                "add_tasks needs named tasks: fit the model with Y as a DataFrame or dict."
            )
        inputs, context, _ = self._prepare_inputs(X, fitting=False)
        layout, columns = self._split_targets(y, len(inputs))
        if layout.kind != layout0.kind:
            raise ValueError(
                f"add_tasks: y must be a {'DataFrame' if layout0.kind == 'frame' else 'dict'}"
                " like the Y the model was fitted on."
            )
        clash = [c for c in columns if c in self.tasks_]
        if clash:
            raise ValueError(f"add_tasks: tasks {clash} already exist; give new task names.")
        spec = {k: v for k, v in (self.tasks or {}).items() if str(k) not in self.tasks_}
        new_tasks, raw = self._resolve_tasks(
            layout, columns, context, spec or None, existing=list(self.tasks_)
        )
        return inputs, context, layout, new_tasks, raw

    def _add_tasks(self, X, y, freeze_shared, sample_weight, validation_rows=None) -> dict:
        inputs, context, layout, new_tasks, raw = self._new_tasks(X, y)
        validation = _validation_index(validation_rows, len(inputs))
        old_tasks = list(self.tasks_.values())
        all_tasks = old_tasks + new_tasks
        data = self._training_data(inputs, context, new_tasks, raw, sample_weight)
        data.task_weights = self._task_weight_vector(all_tasks)[len(old_tasks) :]
        data.class_weights = self._class_weights(all_tasks, data.targets)
        self._task_thresholds(all_tasks)
        device = self.device_
        network = copy.deepcopy(self.module_)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        with torch.random.fork_rng(devices=rng_devices(device)):
            torch.manual_seed(seed)
            frozen, trainable = self._attach_new_tasks(network, new_tasks, freeze_shared, device)
            weighting = clone(self.weighting) if self.weighting is not None else EqualWeighting()
            state = weighting.init([t.name for t in new_tasks])
            if state is not None:
                state.to(device)
                trainable += list(state.parameters())
            optimizer = self._make_optimizer(trainable, device)
            # The strategy's state lives beside the network while the new heads train.
            saved_state, network.weighting = network.weighting, state
            history = History(self.history_)
            start = len(history)
            try:
                self._run(
                    network,
                    new_tasks,
                    weighting,
                    optimizer,
                    data,
                    rng,
                    device,
                    history,
                    frozen,
                    validation=validation,
                )
            finally:
                network.weighting = saved_state
                for p in network.parameters():
                    p.requires_grad_(True)
            # A later warm-start fit trains every task: a fresh optimiser and
            # weighting state over all of them.
            weighting_all = (
                clone(self.weighting) if self.weighting is not None else EqualWeighting()
            )
            network.weighting = weighting_all.init([t.name for t in all_tasks])
            if network.weighting is not None:
                network.weighting.to(device)
        merged = TargetLayout(layout.kind, self.target_layout_.columns + layout.columns)
        return {
            "module_": network,
            "optimizer_": self._make_optimizer(network.parameters(), device),
            "weighting_": weighting_all,
            "history_": history,
            "tasks_": {t.name: t for t in all_tasks},
            "target_layout_": merged,
            "n_iter_": len(history) - start,
            **self._fitted_extras(all_tasks, merged),
        }

    def _attach_new_tasks(self, network, new_tasks, freeze_shared, device):
        """Extend ``network`` in place; return ``(frozen modules, trainable parameters)``."""
        old_heads = [network.head(name) for name in network.task_names]
        added = network.body.add_tasks([t.name for t in new_tasks])
        # Recorded so that a saved model can replay build + add_tasks (skmtl.load).
        network.build_groups.append([t.name for t in new_tasks])
        for module in added:
            module.to(device)
        for t in new_tasks:
            head = self._make_head(t, _head_width(network.body, t), network.body).to(device)
            network.add_head(t.name, head, t.level)
        new_heads = [network.head(t.name) for t in new_tasks]
        new_ids = {id(p) for m in added + new_heads for p in m.parameters()}
        frozen = old_heads + ([network.body] if freeze_shared else [])
        for part in frozen:
            for p in part.parameters():
                if id(p) not in new_ids:
                    p.requires_grad_(False)
        trainable = [p for p in network.parameters() if p.requires_grad and id(p) in new_ids]
        if not freeze_shared:
            body_ids = {id(p) for p in network.body.parameters()} - new_ids
            trainable += [p for p in network.body.parameters() if id(p) in body_ids]
        if freeze_shared and added:
            frozen = old_heads + [m for m in network.body.children() if m not in added]
        return frozen, trainable

    # ------------------------------------------------------------ inference

    def _predictions(self, X, names=None) -> tuple[dict, dict, list, int]:
        """Predictions of every task (or of the tasks ``names``), the context, the tasks, n.

        X is prepared and run part by part (:meth:`_prediction_parts`: chunks of
        raw texts), keeping only each part's outputs.
        """
        check_is_fitted(self, "module_")
        tasks = list(self.tasks_.values())
        if names is not None:
            unknown = [n for n in names if n not in self.tasks_]
            if unknown or isinstance(names, str):
                raise ValueError(
                    f"tasks must be a list of fitted task names {list(self.tasks_)}, got {names!r}."
                )
            tasks = [self.tasks_[n] for n in names]
        run = self._prediction_tasks(tasks)
        condition = self._condition(self.weighting_)
        verbose = getattr(self, "verbose", 0)
        parts, contexts, n = {t.name: [] for t in run}, [], 0
        with torch_threads():
            for inputs, context in self._prediction_parts(X):
                out = predict(
                    self.module_, run, inputs, self.device_, condition=condition, verbose=verbose
                )
                for name, values in out.items():
                    parts[name].append(values)
                contexts.append(context)
                n += len(inputs)
        out = {name: v[0] if len(v) == 1 else np.concatenate(v) for name, v in parts.items()}
        return out, _merge_contexts(contexts), tasks, n

    def _prediction_parts(self, X):
        """Yield the ``(inputs, context)`` of consecutive parts of the rows of X.

        The default is one part (:meth:`_prepare_inputs`). Estimators that read
        raw text yield chunks of :data:`skmtl.encoders._tokenize.PREDICT_CHUNK_ROWS`
        rows, each tokenized just before the network runs over it, so that
        predicting holds the tokens of one chunk at a time (streamed
        prediction). The parts' contexts are joined by :func:`_merge_contexts`.
        """
        inputs, context, _ = self._prepare_inputs(X, fitting=False)
        yield inputs, context

    def _condition(self, weighting, fitting: bool = False):
        """The task weights a weight-conditioned network predicts under (None for the
        other strategies): the current ``task_weights`` after fit; equal weights for
        the validation score during fit, so that ``task_weights`` never act in training."""
        if not weighting.conditions_network:
            return None
        names = list(self.tasks_) if not fitting else weighting.task_names_
        if fitting:
            return weighting.condition_for(np.ones(len(names)))
        return weighting.condition_for(self._task_weight_vector([self.tasks_[n] for n in names]))

    def _prediction_tasks(self, tasks) -> list:
        """The tasks ``predict`` runs (copies with decoding settings, where a type has them)."""
        return tasks

    def predict(self, X):
        """Predict every task, in the label space and layout of the Y used in fit.

        Returns
        -------
        Y_pred : ndarray, DataFrame or dict
            Same layout as the fitted Y: a DataFrame for a DataFrame (same
            columns), a dict for a dict. Multilabel cells are tuples of labels.
        """
        preds, context, tasks, _ = self._predictions(X)
        decoded = self._decode(tasks, preds, context)
        for t in tasks:
            if t.type == "multilabel" and not t.block and len(decoded[t.name]) > 1:
                if not any(len(cell) for cell in decoded[t.name]):
                    warnings.warn(
                        f"Task {t.name!r}: every prediction is the empty label set (no label "
                        "reaches its threshold); the head may be undertrained. Train longer, "
                        "lower `threshold`, or set `min_labels=1` to always predict the most "
                        "probable label.",
                        UserWarning,
                        stacklevel=2,
                    )
        return self._assemble(tasks, decoded, context)

    def _decode(self, tasks, preds, context) -> dict:
        """Each task's predictions as labels, with its decision options."""
        thresholds = self._task_thresholds(tasks)
        minimum = self._min_labels(tasks)
        return {
            t.name: t.decode(
                preds[t.name],
                threshold=thresholds.get(t.name, 0.5),
                **({"min_labels": minimum[t.name]} if t.name in minimum else {}),
                **context,
            )
            for t in tasks
        }

    def _min_labels(self, tasks) -> dict[str, int]:
        """``min_labels`` of each multilabel task (estimators that have the parameter)."""
        if "min_labels" not in self._get_param_names():
            return {}
        names = [t.name for t in tasks if t.type == "multilabel"]

        def check(name, v):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
                raise ValueError(f"min_labels for task {name!r} must be an int >= 0, got {v!r}.")

        return per_task_values("min_labels", self.min_labels, names, 0, check)

    def score(self, X, y, sample_weight=None) -> float:
        """Mean over tasks of each task's default metric, on its labelled rows.

        The default metrics (``task.default_metric``, computed by
        :func:`skmtl.metrics.task_score`, as the scorers of
        :func:`skmtl.metrics.multitask_scorers` do): accuracy (binary,
        multiclass), macro-F1 over the labels present in truth or prediction
        (multilabel), R^2 (continuous), token accuracy (token tasks). A label
        never seen in fit counts as an error (one warning names it). A named
        Y (DataFrame or dict) may hold a subset of the tasks.
        """
        preds, context, tasks, n = self._predictions(X)
        decoded_all = self._decode(tasks, preds, context)
        tasks = self._scored_tasks(tasks, y)
        raw = columns_for(self.target_layout_, tasks, y)
        n_rows = {len(c) for c in raw.values()}.pop()
        if n_rows != n:
            raise ValueError(f"X has {n} samples but Y has {n_rows} rows; they must match.")
        weights = self._row_weights(sample_weight, n, tasks) if sample_weight is not None else {}
        scores, unseen = [], []
        for t in tasks:
            column = raw[t.name]
            if missing_mask(np.asarray(column, dtype=object)).all():
                continue
            unseen += _unseen_labels(t, column, context)
            scores.append(
                task_score(
                    column,
                    decoded_all[t.name],
                    t.default_metric,
                    task_type=t.type,
                    sample_weight=weights.get(t.name),
                )
            )
        if unseen:
            warnings.warn(
                "Y has labels never seen in fit; they count as errors. " + " ".join(unseen),
                UserWarning,
                stacklevel=2,
            )
        if not scores:
            raise ValueError("Y has no labelled row for any task; nothing to score.")
        return float(np.mean(scores))

    def _scored_tasks(self, tasks, y) -> list:
        """The fitted tasks that a named Y (DataFrame or dict) has columns for."""
        if self.target_layout_.kind not in ("frame", "dict"):
            return tasks
        _, columns = split_targets(y)
        known = {str(c) for t in tasks for c in t.columns}
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise ValueError(
                f"Y has columns {unknown} that are no fitted task; the tasks are "
                f"{[t.name for t in tasks]}."
            )
        return [t for t in tasks if all(str(c) in columns for c in t.columns)]

    # ------------------------------------------------------------ misc

    #: Whether a single (1-D) target is accepted.
    _single_output = True

    def _takes_text(self) -> bool:
        """Whether X is raw text (else a numeric matrix, dense or sparse)."""
        return False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self._takes_text():
            tags.input_tags.two_d_array = False
            tags.input_tags.string = True
        else:
            tags.input_tags.sparse = True
        tags.target_tags.required = True
        tags.target_tags.single_output = self._single_output
        tags.target_tags.multi_output = True
        return tags


def _merge_contexts(contexts: list[dict]) -> dict:
    """The context of the whole input from its parts' (see ``_prediction_parts``):
    per-row arrays (``lengths``, ``full_lengths``) joined, anything else (the
    input's ``index``) the first part's."""
    if len(contexts) == 1:
        return contexts[0]
    return {
        key: np.concatenate([c[key] for c in contexts]) if isinstance(value, np.ndarray) else value
        for key, value in contexts[0].items()
    }


def _warn_if_still_improving(records, patience: int, tol: float) -> None:
    """A ConvergenceWarning when ``max_epochs`` ended a fit whose loss still falls.

    As scikit-learn's MLP: the fit has not converged while the training loss
    of the last epoch is more than ``tol`` (relative) below the best of the
    ``patience`` epochs before it.
    """
    losses = [r["train_loss"] for r in records]
    if len(losses) < 2:
        return
    before = min(losses[-1 - min(patience, len(losses) - 1) : -1])
    if losses[-1] < before - max(tol, 1e-4) * abs(before):
        warnings.warn(
            f"Training stopped at max_epochs={len(losses)} while the training loss was "
            f"still falling ({before:.4g} -> {losses[-1]:.4g}); the model may be "
            "undertrained. Raise max_epochs, or use early_stopping=True.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )


def _validation_index(rows, n: int) -> np.ndarray | None:
    """``fit``'s ``validation_rows`` as sorted row indices (None: no validation rows)."""
    if rows is None:
        return None
    arr = np.asarray(rows)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(
                f"validation_rows as a boolean mask must have one entry per row of X "
                f"({n}), got shape {arr.shape}."
            )
        index = np.flatnonzero(arr)
    elif arr.ndim == 1 and (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        index = np.unique(arr.astype(np.int64))
        if len(index) != len(arr):
            raise ValueError("validation_rows holds a row index more than once.")
        if index.size and (index[0] < -n or index[-1] >= n):
            raise ValueError(
                f"validation_rows holds row indices outside [0, {n}) for X of {n} rows."
            )
        index = np.unique(np.where(index < 0, index + n, index))
    else:
        raise ValueError(
            "validation_rows must be a boolean mask of shape (n_samples,) or a 1-D array of "
            f"row indices, got {np.asarray(rows, dtype=object).ravel()[:5].tolist()!r}."
        )
    if len(index) == 0 or len(index) == n:
        raise ValueError(
            f"validation_rows selects {len(index)} of the {n} rows; it must leave at least "
            "one row to validate on and one to train on."
        )
    return index


def _unseen_labels(task, column, context) -> list[str]:
    """The task's message about labels of ``column`` never seen in fit, if any."""
    try:
        task.encode(column, check_unseen=True, **context)
    except ValueError as exc:
        if "never seen in fit" in str(exc):
            return [str(exc)]
        raise
    return []


def _head_width(body, task) -> int:
    """Width of what ``task``'s head reads: its representation, pooled for a row-level
    task that reads token vectors (twice as wide with ``pooling="mean+max"``)."""
    stack, block = body.stack, body.read_block(task.name)
    if task.level == "row" and stack.level(block) == "token":
        return stack.pooled_features(block)
    return body.out_features[task.name]


# ---------------------------------------------------------------- partial_fit helpers

_SHOWN_CLASSES = 20


def _shown(labels) -> str:
    """A list of labels for a message, cut after the first :data:`_SHOWN_CLASSES`."""
    items = [label.item() if isinstance(label, np.generic) else label for label in labels]
    more = f", ... ({len(items)} labels)" if len(items) > _SHOWN_CLASSES else ""
    return f"{str(items[:_SHOWN_CLASSES])[:-1]}{more}]"


def _label_set(labels) -> set:
    return {label.item() if isinstance(label, np.generic) else label for label in labels}


def _class_labels(name: str, value) -> np.ndarray:
    """One task's declared classes as a 1-D object array of distinct labels."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(
            f"classes for task {name!r} must be an array-like of labels, got {value!r:.80}."
        )
    if isinstance(value, np.ndarray) and value.ndim != 1:
        raise ValueError(
            f"classes for task {name!r} must be 1-D (one entry per label), got shape {value.shape}."
        )
    items = value.tolist() if hasattr(value, "tolist") else list(value)
    if not items:
        raise ValueError(f"classes for task {name!r} is empty; give every label of the task.")
    for label in items:
        if is_label_set(label) or isinstance(label, Mapping):
            raise ValueError(
                f"classes for task {name!r} must be a flat list of labels; it holds {label!r:.80}."
            )
        if is_missing(label):
            raise ValueError(
                f"classes for task {name!r} holds a missing value ({label!r}): a missing "
                "label (NaN or None in Y) is no class; leave it out."
            )
    seen, unique = set(), []
    for label in items:
        try:
            new = label not in seen
        except TypeError:
            raise ValueError(
                f"classes for task {name!r} holds an unhashable label {label!r:.80}."
            ) from None
        if new:
            seen.add(label)
            unique.append(label)
    out = np.empty(len(unique), dtype=object)
    out[:] = unique
    return out


def _declared_classes(classes, layout: TargetLayout, columns: dict) -> dict[str, np.ndarray]:
    """``partial_fit``'s ``classes`` as ``{column name: labels}`` (entries of None dropped).

    A dict names tasks; for a 1-D y an array-like is that task's labels; for a
    2-D Y (or a DataFrame / dict) a list holds one entry per column, in order,
    as :meth:`sklearn.multioutput.MultiOutputClassifier.partial_fit` takes them.
    """
    names = list(columns)
    if classes is None:
        return {}
    if isinstance(classes, Mapping):
        entries = {}
        for key, value in classes.items():
            if str(key) not in names:
                raise ValueError(
                    f"classes names unknown tasks [{key!r}]; the tasks (columns) of Y are {names}."
                )
            entries[str(key)] = value
    elif layout.kind == "1d":
        value = classes
        if (
            isinstance(value, (list, tuple))
            and len(value) == 1
            and hasattr(value[0], "__iter__")
            and not isinstance(value[0], (str, bytes))
        ):
            value = value[0]  # [labels]: the one-entry list of a multi-output y
        entries = {names[0]: value}
    else:
        if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
            raise ValueError(
                "classes must be a dict {task: labels} or a list with one entry per column "
                f"of Y, got {classes!r:.80}."
            )
        items = list(classes)
        if len(items) != len(names):
            raise ValueError(
                f"classes has {len(items)} entries but Y has {len(names)} columns {names}; "
                "give one entry per column (None for a continuous one), or a dict "
                "{task: labels}."
            )
        entries = dict(zip(names, items, strict=True))
    return {
        name: _class_labels(name, value) for name, value in entries.items() if value is not None
    }


def _check_declared(name: str, column, declared, *, first: bool) -> None:
    """A ValueError naming the task, the row and the label of the first labelled cell
    whose label is not among ``declared`` (missing cells are data, not errors)."""
    column = np.asarray(column) if not isinstance(column, np.ndarray) else column
    if column.ndim != 1:
        return
    rows = np.flatnonzero(~missing_mask(column))
    if not len(rows):
        return
    cells = column[rows]
    if cells.dtype.kind == "O":
        flat, owner = [], []
        for row, cell in zip(rows.tolist(), cells.tolist(), strict=True):
            items = list(cell) if is_label_set(cell) else [cell]
            for item in items:
                if not is_missing(item):  # a hole in a label set: the task's own error
                    flat.append(item)
                    owner.append(row)
    else:
        flat, owner = cells.tolist(), rows.tolist()
    if not flat:
        return
    known = np.empty(len(declared), dtype=object)
    known[:] = list(declared)
    try:
        found = pd.Index(known).get_indexer(pd.Index(flat, dtype=object))
    except TypeError:  # unhashable labels: the task's encoding names them
        return
    if (found >= 0).all():
        return
    k = int(np.argmax(found < 0))
    label = flat[k]
    label = label.item() if isinstance(label, np.generic) else label
    where = "in `classes`" if first else "on the first call to partial_fit"
    raise ValueError(
        f"Task {name!r}, row {owner[k]}: label {label!r} is not one of the classes declared "
        f"{where}: {_shown(declared)}. partial_fit keeps the label space of its first "
        "call; declare every label of the task in `classes` then."
    )


def _check_later_chunk(layout: TargetLayout, new: TargetLayout, tasks: list, columns) -> None:
    """A later chunk's Y must have the model's tasks (no other column)."""
    if layout.kind == "1d":
        if new.kind != "1d":
            raise ValueError(
                f"y must be 1-D, as in the first call to partial_fit (or fit); got a Y with "
                f"the columns {list(columns)}."
            )
        return
    expected = [str(c) for t in tasks for c in t.columns]
    unknown = [c for c in columns if c not in expected]
    if unknown:
        raise ValueError(
            f"Y has columns {unknown} that are no task of the model; the first call to "
            f"partial_fit fixed the tasks {[t.name for t in tasks]} (columns {expected})."
        )


def _check_same_classes(layout: TargetLayout, tasks: list, columns: dict, classes) -> None:
    """``classes`` given on a later call must be the label spaces the model has."""
    if classes is None:
        return
    by_name = {t.name: t for t in tasks}
    names = list(columns) if layout.kind != "1d" else [tasks[0].name]
    for name, labels in _declared_classes(classes, layout, dict.fromkeys(names)).items():
        task = by_name.get(name)
        fitted = None if task is None or task.classes is None else task.classes
        if fitted is None or _label_set(labels) != _label_set(fitted):
            raise ValueError(
                f"classes={_shown(labels)} for task {name!r} is not the label space fixed by "
                f"the first call to partial_fit: "
                f"{'none (continuous)' if fitted is None else _shown(fitted)}."
            )


def _check_not_a_dask_key(y, n: int) -> None:
    """A clear error for the key of a dask block where its rows belong.

    dask-ml's ``Incremental`` (2025.1) addresses the blocks of a 2-D dask array
    y by ``(name, i)``, which is no key of a 2-D array (``(name, i, 0)`` is), so
    each ``partial_fit`` gets the tuple itself as y.
    """
    if (
        isinstance(y, tuple)
        and len(y) in (2, 3)
        and len(y) != n
        and isinstance(y[0], str)
        and all(isinstance(i, numbers.Integral) for i in y[1:])
    ):
        raise ValueError(
            f"y is {y!r}, the key of a dask block rather than its rows: "
            "dask_ml.wrappers.Incremental does not pass the blocks of a 2-D dask array y. "
            "Give Y as a dask DataFrame with the partitions of X's blocks, e.g. "
            "dask.dataframe.from_dask_array(Y, columns=[...]), or fit one 1-D dask y."
        )


def _check_partial_fit_class_weight(value) -> None:
    """partial_fit refuses ``class_weight="balanced"``, as scikit-learn's SGD does."""
    values = (
        list(value.values()) + [getattr(value, "default", None)]
        if isinstance(value, Mapping)
        else [value]
    )
    if any(isinstance(v, str) and v == "balanced" for v in values):
        raise ValueError(
            "class_weight='balanced' is not supported by partial_fit: each chunk would get "
            "other weights. Compute them once, e.g. with "
            "sklearn.utils.class_weight.compute_class_weight('balanced', classes=..., y=...) "
            "on a large enough sample of the labels, and pass {label: weight} dicts."
        )


def _partial_fit_rng(random_state, n_done: int):
    """The RandomState of a partial_fit call after ``n_done`` epochs: that of fit for the
    first call; for an int ``random_state``, one seeded by (random_state, n_done)."""
    if n_done and isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.RandomState([int(random_state) % 2**32, int(n_done)])
    return check_random_state(random_state)


def _spec_type(spec, name: str):
    """The type that the ``tasks`` parameter gives the task ``name`` (None: none)."""
    if not isinstance(spec, Mapping):
        return None
    for key, entry in spec.items():
        if str(key) == name:
            return entry.get("type") if isinstance(entry, Mapping) else entry
    return None
