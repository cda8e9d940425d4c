"""Model files that never run code when loaded: :func:`save` and :func:`load`.

A model file is one `safetensors <https://huggingface.co/docs/safetensors>`_
file: every tensor (the network's weights and buffers, the optimiser's state,
the tensors and arrays of the fitted weighting strategy) in the tensor section,
and one JSON document in the header's ``__metadata__`` (key ``"skmtl"``): the
format version, the versions that wrote the file, the estimator's class and
parameters, and its fitted attributes as plain values. Loading reads JSON and
raw tensor bytes only: a class can come only from an explicit allow-list of
skmtl classes (:data:`ALLOWED_CLASSES`), never from an import path in the file,
and the network is rebuilt by the estimator's own recipe before its weights are
copied in.

The same pieces make pickling safe (:class:`skmtl._torch_base.TorchEstimatorMixin`):
a pickled estimator keeps its torch state as a ``torch.save`` of tensors and
plain data, read back with ``torch.load(weights_only=True)``.

The JSON encoding
-----------------
None, bool, int, str, list and finite floats are themselves; anything else is
an object with a ``"$"`` tag: ``float`` (nan, inf), ``tuple``, ``dict`` (item
pairs, so keys keep their type), ``PerTask``, ``History``, ``npscalar``,
``ndarray`` (dtype, shape and values, or a tensor key), ``tensor``,
``torch.Generator``, ``np.Generator``, ``RandomState``, ``task`` (a
:data:`skmtl.tasks.TASK_TYPES` name and its fields), ``TargetLayout`` and
``object`` (an allow-listed class and its ``get_params(deep=False)``).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import sklearn
import torch
from sklearn.base import clone

from ._history import History
from ._params import PerTask
from .tasks import TASK_TYPES, TargetLayout, Task, get_task_type
from .weighting import EqualWeighting

__all__ = ["ALLOWED_CLASSES", "FORMAT_VERSION", "InconsistentVersionWarning", "load", "save"]

#: The version of the file layout that this skmtl writes and reads.
FORMAT_VERSION = 1
_FORMAT = "skmtl-model"
_METADATA_KEY = "skmtl"
_TORCH_ATTRS = ("module_", "optimizer_", "weighting_", "device_")
_BIT_GENERATORS = ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64")
_ARRAY_KINDS = "biufUO"
_TENSOR_DTYPES = {"b1", "i1", "i2", "i4", "i8", "u1", "f2", "f4", "f8"}
_NPSCALAR_KINDS = "biufU"
_PICKLE_PROTO = 0x80
_MAX_HEADER = 100 * 2**20


class InconsistentVersionWarning(UserWarning):
    """A model is loaded by another skmtl version than the one that saved it.

    Like :class:`sklearn.exceptions.InconsistentVersionWarning`: the model may
    load but behave differently, or break; refit it with this version to be sure.

    Parameters
    ----------
    estimator_name : str
    current_skmtl_version : str
    original_skmtl_version : str
    """

    def __init__(
        self, *, estimator_name: str, current_skmtl_version: str, original_skmtl_version: str
    ) -> None:
        self.estimator_name = estimator_name
        self.current_skmtl_version = current_skmtl_version
        self.original_skmtl_version = original_skmtl_version

    def __str__(self) -> str:
        return (
            f"Loading {self.estimator_name} saved by skmtl {self.original_skmtl_version} "
            f"with skmtl {self.current_skmtl_version}; it may behave differently or break. "
            "Refit it with this version to be sure."
        )


def skmtl_version() -> str:
    from . import __version__  # skmtl/__init__ sets it after importing this module

    return __version__


def check_skmtl_version(estimator_name: str, original: str | None) -> None:
    """Warn (:class:`InconsistentVersionWarning`) when ``original`` is another skmtl version."""
    current = skmtl_version()
    if original != current:
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=estimator_name,
                current_skmtl_version=current,
                original_skmtl_version="unknown" if original is None else str(original),
            ),
            stacklevel=3,
        )


# ---------------------------------------------------------------- the allow-list


def _allowed_classes() -> dict[str, type]:
    from . import architectures as a
    from . import estimators as e
    from . import sampling as s
    from . import weighting as w
    from .encoders import PretrainedEncoder, SubwordTokenizer, TextEncoder

    groups = {
        "skmtl": (
            e.MultiTaskClassifier,
            e.MultiTaskEstimator,
            e.MultiTaskRegressor,
            e.MultiTaskTagger,
            e.MultiTaskSeq2Seq,
        ),
        "skmtl.encoders": (PretrainedEncoder, SubwordTokenizer, TextEncoder),
        "skmtl.architectures": (
            a.CGC,
            a.CrossStitch,
            a.DSelectK,
            a.HardSharing,
            a.Hierarchical,
            a.MMoE,
            a.PLE,
        ),
        "skmtl.sampling": (
            s.AnnealedSampling,
            s.ProportionalSampling,
            s.TemperatureSampling,
            s.UniformSampling,
        ),
        "skmtl.weighting": (
            w.AlignedMTL,
            w.AutoLambda,
            w.CAGrad,
            w.ConFIG,
            w.DBMTL,
            w.DWA,
            w.DualProj,
            w.EqualWeighting,
            w.ExcessMTL,
            w.FAMO,
            w.FairGrad,
            w.GLS,
            w.GradDrop,
            w.GradNorm,
            w.GradVac,
            w.IMTLG,
            w.IMTLL,
            w.MGDA,
            w.MoCo,
            w.MoDo,
            w.NashMTL,
            w.PCGrad,
            w.RLW,
            w.SDMGrad,
            w.STCH,
            w.StaticWeighting,
            w.UPGrad,
            w.UncertaintyWeighting,
            w.WeightConditioned,
        ),
    }
    return {
        f"{module}.{cls.__name__}": cls for module, classes in groups.items() for cls in classes
    }


class _AllowList(Mapping):
    """The classes a model file may name, by public name (built on first use)."""

    _classes: dict[str, type] | None = None

    def _get(self) -> dict[str, type]:
        if _AllowList._classes is None:
            _AllowList._classes = _allowed_classes()
        return _AllowList._classes

    def __getitem__(self, name: str) -> type:
        return self._get()[name]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


#: Every class a model file may name: the estimators, ``TextEncoder``,
#: ``PretrainedEncoder``, the architectures and the weighting strategies, by public name.
ALLOWED_CLASSES: Mapping[str, type] = _AllowList()


def _class_name(obj) -> str | None:
    for name, cls in ALLOWED_CLASSES.items():
        if type(obj) is cls:
            return name
    return None


# ---------------------------------------------------------------- encoding


def _unsupported(value, path: str) -> TypeError:
    return TypeError(
        f"skmtl.save cannot store {path} = {value!r:.80} (a {type(value).__name__}); a model "
        "file holds skmtl classes, plain values, NumPy arrays and tensors only. Use pickle or "
        "joblib for this model (and load only files you trust)."
    )


def _encode_float(value: float):
    if math.isfinite(value):
        return value
    return {"$": "float", "v": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}


def _encode_array(value: np.ndarray, path: str, sink: dict | None):
    dtype = value.dtype
    if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None:
        raise _unsupported(value, path)
    doc = {"$": "ndarray", "dtype": dtype.str, "shape": list(value.shape)}
    if sink is not None and dtype.isnative and dtype.str[1:] in _TENSOR_DTYPES:
        doc["tensor"] = _put(sink, path, torch.from_numpy(np.array(value, copy=True)))
        return doc
    cells = value.ravel().tolist() if dtype.kind != "O" else list(value.ravel())
    doc["data"] = [_encode(c, f"{path}.flat[{i}]", None) for i, c in enumerate(cells)]
    return doc


def _put(sink: dict, path: str, tensor: torch.Tensor) -> str:
    if path in sink:
        raise ValueError(f"skmtl.save: two tensors would be stored under {path!r}.")
    sink[path] = tensor.detach().to("cpu")
    return path


def _encode_object(value, path: str, sink: dict | None):
    """Values of skmtl's own types: an allow-listed class, a task, a layout, generators."""
    if isinstance(value, Task) and TASK_TYPES.get(value.type) is type(value):
        fields = value.to_dict()
        kind = fields.pop("type")
        return {"$": "task", "type": kind, "fields": _encode_fields(fields, path, sink)}
    if type(value) is TargetLayout:
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {"$": "TargetLayout", "fields": _encode_fields(fields, path, sink)}
    if isinstance(value, np.random.Generator):
        bit_generator = value.bit_generator
        name = type(bit_generator).__name__
        if name not in _BIT_GENERATORS:
            raise _unsupported(value, path)
        state = _encode(bit_generator.state, f"{path}.state", None)
        return {"$": "np.Generator", "bit_generator": name, "state": state}
    if type(value) is np.random.RandomState:
        return {"$": "RandomState", "state": _encode(value.get_state(legacy=False), path, None)}
    if isinstance(value, torch.Generator) and sink is not None:
        key = _put(sink, path, value.get_state())
        return {"$": "torch.Generator", "device": str(value.device), "tensor": key}
    if isinstance(value, torch.Tensor) and sink is not None:
        return {"$": "tensor", "tensor": _put(sink, path, value)}
    name = _class_name(value)
    if name is None:
        raise _unsupported(value, path)
    params = value.get_params(deep=False)
    return {"$": "object", "class": name, "params": _encode_fields(params, path, sink)}


def _encode_fields(fields: dict, path: str, sink: dict | None) -> dict:
    return {str(k): _encode(v, f"{path}.{k}", sink) for k, v in fields.items()}


def _item_path(path: str, i: int, key) -> str:
    """Where a dict item's tensors go: ``path.<key>`` for a str or int key, else its index."""
    return f"{path}.{key}" if type(key) in (str, int) else f"{path}.{i}"


def _encode(value, path: str, sink: dict | None = None):
    """``value`` as JSON-able data; tensors (and, with ``sink``, numeric arrays) go to ``sink``."""
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if isinstance(value, np.generic):
        if value.dtype.kind not in _NPSCALAR_KINDS:
            raise _unsupported(value, path)
        return {"$": "npscalar", "dtype": value.dtype.str, "v": _encode(value.item(), path)}
    if kind is float:
        return _encode_float(value)
    if kind in (list, tuple, History):
        items = [_encode(v, f"{path}.{i}", sink) for i, v in enumerate(value)]
        return items if kind is list else {"$": kind.__name__, "items": items}
    if kind in (dict, PerTask):
        items = [
            [_encode(k, f"{path}.{i}", None), _encode(v, _item_path(path, i, k), sink)]
            for i, (k, v) in enumerate(value.items())
        ]
        if kind is dict:
            return {"$": "dict", "items": items}
        return {"$": "PerTask", "items": items, "default": _encode(value.default, path, sink)}
    if kind is np.ndarray:
        return _encode_array(value, path, sink)
    return _encode_object(value, path, sink)


# ---------------------------------------------------------------- decoding


class _Source:
    """The tensors a document refers to, and the device they go to."""

    def __init__(self, tensors: Mapping[str, torch.Tensor], device=None) -> None:
        self.tensors = tensors
        self.device = torch.device("cpu") if device is None else device

    def tensor(self, key) -> torch.Tensor:
        if not isinstance(key, str) or key not in self.tensors:
            raise ValueError(f"the model file lacks the tensor {key!r}.")
        return self.tensors[key]


def _dtype(name) -> np.dtype:
    try:
        dtype = np.dtype(name) if isinstance(name, str) else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind not in _ARRAY_KINDS or dtype.fields is not None:
        raise ValueError(f"the model file names an unsupported dtype {name!r}.")
    return dtype


def _decode_array(doc: dict, source: _Source) -> np.ndarray:
    dtype = _dtype(doc["dtype"])
    shape = tuple(int(n) for n in doc["shape"])
    if "tensor" in doc:
        array = source.tensor(doc["tensor"]).cpu().numpy().astype(dtype, copy=False)
        return array.reshape(shape)
    cells = [_decode(c, source) for c in doc["data"]]
    if len(cells) != math.prod(shape):
        raise ValueError(f"an array of shape {shape} holds {len(cells)} values.")
    if dtype.kind != "O":
        return np.array(cells, dtype=dtype).reshape(shape)
    out = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):
        out[i] = cell
    return out.reshape(shape)


def _decode_object(doc: dict, source: _Source):
    name = doc["class"]
    cls = ALLOWED_CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"the model file names the class {name!r}, which is not one of the skmtl classes "
            f"a model file may create ({', '.join(ALLOWED_CLASSES)})."
        )
    params = _decode_fields(doc["params"], source)
    unknown = sorted(set(params) - set(cls._get_param_names()))
    if unknown:
        raise ValueError(f"the model file gives {name} the unknown parameters {unknown}.")
    return cls(**params)


def _decode_fields(doc, source: _Source) -> dict:
    if not isinstance(doc, dict):
        raise ValueError(f"expected a JSON object of fields, got {doc!r:.80}.")
    return {k: _decode(v, source) for k, v in doc.items()}


def _decode_generator(doc: dict, source: _Source):
    if doc["$"] == "np.Generator":
        name = doc["bit_generator"]
        if name not in _BIT_GENERATORS:
            raise ValueError(f"the model file names an unknown bit generator {name!r}.")
        bit_generator = getattr(np.random, name)()
        bit_generator.state = _decode(doc["state"], source)
        return np.random.Generator(bit_generator)
    if doc["$"] == "RandomState":
        rng = np.random.RandomState()
        rng.set_state(_decode(doc["state"], source))
        return rng
    device = torch.device(doc["device"])
    if device.type != "cpu" and source.device.type == "cpu":
        raise ValueError(f"a torch generator of {device} cannot be restored on the CPU.")
    generator = torch.Generator(device=device)
    generator.set_state(source.tensor(doc["tensor"]).cpu())
    return generator


def _decode_tagged(doc: dict, source: _Source):
    tag = doc["$"]
    if tag == "float":
        return float(doc["v"]) if doc["v"] in ("nan", "inf", "-inf") else _bad(doc)
    if tag in ("tuple", "History"):
        items = [_decode(v, source) for v in doc["items"]]
        return tuple(items) if tag == "tuple" else History(items)
    if tag in ("dict", "PerTask"):
        out = {} if tag == "dict" else PerTask(default=_decode(doc["default"], source))
        for key, value in doc["items"]:
            out[_decode(key, source)] = _decode(value, source)
        return out
    if tag == "npscalar":
        dtype = _dtype(doc["dtype"])
        if dtype.kind not in _NPSCALAR_KINDS:
            _bad(doc)
        return np.array(_decode(doc["v"], source), dtype=dtype)[()]
    if tag == "ndarray":
        return _decode_array(doc, source)
    if tag == "tensor":
        return source.tensor(doc["tensor"]).to(source.device)
    if tag in ("np.Generator", "RandomState", "torch.Generator"):
        return _decode_generator(doc, source)
    if tag == "task":
        return get_task_type(doc["type"]).from_dict(
            {"type": doc["type"], **_decode_fields(doc["fields"], source)}
        )
    if tag == "TargetLayout":
        return TargetLayout(**_decode_fields(doc["fields"], source))
    if tag == "object":
        return _decode_object(doc, source)
    return _bad(doc)


def _bad(doc):
    raise ValueError(f"the model file holds an unknown value {doc!r:.120}.")


def _decode(doc, source: _Source):
    """The value of :func:`_encode`'s output; ValueError for anything it cannot hold."""
    if doc is None or type(doc) in (bool, int, float, str):
        return doc
    if type(doc) is list:
        return [_decode(v, source) for v in doc]
    if type(doc) is dict and isinstance(doc.get("$"), str):
        return _decode_tagged(doc, source)
    return _bad(doc)


# ---------------------------------------------------------------- torch state


def _network_tensors(network: torch.nn.Module, sink: dict) -> None:
    """The network's ``state_dict`` (``module.*``) and non-persistent buffers (``buffer.*``)."""
    state = network.state_dict()
    for key, tensor in state.items():
        _put(sink, f"module.{key}", tensor)
    for name, buffer in network.named_buffers():
        if name not in state:
            _put(sink, f"buffer.{name}", buffer)


def torch_state(estimator) -> tuple[dict, dict[str, torch.Tensor]]:
    """The fitted network and optimiser as ``(plain document, {key: CPU tensor})``.

    The document records how the network was built (``groups``: the tasks of
    the architecture's ``build``, then of each ``add_tasks``) and the
    optimiser's state; :func:`restore_network` rebuilds both from it.
    """
    network = estimator.module_
    sink: dict[str, torch.Tensor] = {}
    _network_tensors(network, sink)
    groups = getattr(network, "build_groups", None) or [list(network.task_names)]
    doc = {
        "groups": [[str(n) for n in group] for group in groups],
        "eval_modules": [name for name, m in network.named_modules() if not m.training],
        "optimizer": _encode(estimator.optimizer_.state_dict(), "optimizer", sink),
    }
    return doc, sink


def _rebuild(estimator, groups: list[list[str]]):
    """A fresh network of the estimator's recipe, replaying ``build`` and each ``add_tasks``."""
    tasks = estimator.tasks_
    if [n for group in groups for n in group] != list(tasks):
        raise ValueError(
            f"the saved network serves the tasks {groups}, but the model's tasks are {list(tasks)}."
        )
    cpu = torch.device("cpu")
    with torch.random.fork_rng(devices=[]):  # the initial weights are overwritten
        network, weighting = estimator._build_network([tasks[n] for n in groups[0]], {})
        for group in groups[1:]:
            estimator._attach_new_tasks(network, [tasks[n] for n in group], False, cpu)
        if len(groups) > 1:
            spec = estimator.weighting
            weighting = clone(spec) if spec is not None else EqualWeighting()
            network.weighting = weighting.init(list(tasks))
    for p in network.parameters():
        p.requires_grad_(True)
    return network, weighting


def restore_network(estimator, doc: dict, tensors: Mapping, device: torch.device):
    """``(network, weighting, optimizer)`` rebuilt from :func:`torch_state`'s output.

    The estimator's parameters and fitted attributes (``tasks_``, ``encoder_``,
    ``n_features_in_``) must be set. ``weighting`` is a fresh fitted clone of
    the strategy (its state is the caller's to restore).
    """
    network, weighting = _rebuild(estimator, doc["groups"])
    state = {k[len("module.") :]: v for k, v in tensors.items() if k.startswith("module.")}
    try:
        network.load_state_dict(state, strict=True)
        for key, value in tensors.items():
            if key.startswith("buffer."):
                network.get_buffer(key[len("buffer.") :]).copy_(value)
    except (RuntimeError, AttributeError) as exc:
        raise ValueError(
            f"the saved weights do not fit the network this skmtl builds for the model: {exc}"
        ) from None
    in_eval = set(doc["eval_modules"])
    for name, module in network.named_modules():
        module.training = name not in in_eval  # each module's own mode, as saved
    network.to(device)
    optimizer = estimator._make_optimizer(network.parameters(), device)
    optimizer.load_state_dict(_decode(doc["optimizer"], _Source(tensors, device)))
    return network, weighting, optimizer


def loading_device(saved) -> torch.device:
    """Where a model saved on ``saved`` is loaded: there if torch sees it, else the CPU."""
    device = torch.device(str(saved)) if saved is not None else torch.device("cpu")
    if device.type == "cpu":
        return device
    index = device.index if device.index is not None else 0
    if device.type == "cuda" and torch.cuda.is_available() and index < torch.cuda.device_count():
        return device
    warnings.warn(
        f"This model was fitted on {device} but torch sees no such GPU here; it was loaded "
        "on the CPU.",
        stacklevel=3,
    )
    return torch.device("cpu")


class _TensorRef:
    """Stands for a tensor (or a torch generator's state) of a pickled strategy."""

    __slots__ = ("device", "key")

    def __init__(self, key: str, device: str | None = None) -> None:
        self.key, self.device = key, device

    def __reduce__(self):
        return (_TensorRef, (self.key, self.device))


def _pull(value, path: str, sink: dict):
    if isinstance(value, torch.Tensor):
        return _TensorRef(_put(sink, path, value))
    if isinstance(value, torch.Generator):
        return _TensorRef(_put(sink, path, value.get_state()), str(value.device))
    if type(value) in (list, tuple):
        return type(value)(_pull(v, f"{path}.{i}", sink) for i, v in enumerate(value))
    if type(value) is dict:
        return {k: _pull(v, f"{path}.{i}", sink) for i, (k, v) in enumerate(value.items())}
    return value


def _push(value, tensors: Mapping, device: torch.device):
    if isinstance(value, _TensorRef):
        tensor = tensors[value.key]
        if value.device is None:
            return tensor.to(device)
        if torch.device(value.device).type != device.type:
            raise ValueError(f"a torch generator of {value.device} cannot be restored on {device}.")
        generator = torch.Generator(device=value.device)
        generator.set_state(tensor.cpu())
        return generator
    if type(value) in (list, tuple):
        return type(value)(_push(v, tensors, device) for v in value)
    if type(value) is dict:
        return {k: _push(v, tensors, device) for k, v in value.items()}
    return value


def detach_tensors(strategy) -> tuple[Any, dict[str, torch.Tensor]]:
    """A shallow copy of a fitted strategy whose tensors (and torch generators) are
    references into the returned ``{key: CPU tensor}`` (for pickling)."""
    twin = copy.copy(strategy)
    sink: dict[str, torch.Tensor] = {}
    for name, value in list(vars(twin).items()):
        setattr(twin, name, _pull(value, name, sink))
    return twin, sink


def attach_tensors(strategy, tensors: Mapping, device: torch.device) -> None:
    """Put back the tensors of :func:`detach_tensors`, in place, on ``device``."""
    for name, value in list(vars(strategy).items()):
        setattr(strategy, name, _push(value, tensors, device))


# ---------------------------------------------------------------- the file


def _versions() -> dict[str, str]:
    import safetensors

    return {
        "skmtl": skmtl_version(),
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
    }


def _fitted_doc(estimator, sink: dict) -> dict:
    params = set(estimator.get_params(deep=False))
    attributes = {}
    for name, value in vars(estimator).items():
        if name not in params and name not in _TORCH_ATTRS:
            if not (name.isidentifier() and name.endswith("_") and not name.startswith("_")):
                raise _unsupported(value, name)
            attributes[name] = _encode(value, name)
    torch_doc, tensors = torch_state(estimator)
    sink.update(tensors)
    strategy = estimator.weighting_
    name = _class_name(strategy)
    if name is None:
        raise _unsupported(strategy, "weighting_")
    state = {k: v for k, v in vars(strategy).items() if k not in strategy._get_param_names()}
    return {
        "attributes": attributes,
        "device": str(estimator.device_),
        "torch": torch_doc,
        "weighting": {
            "class": name,
            "params": _encode_fields(strategy.get_params(deep=False), "weighting_", None),
            "state": _encode_fields(state, "weighting", sink),
        },
    }


def save(model, path: str | os.PathLike) -> None:
    """Save a skmtl estimator to one ``.safetensors`` file that :func:`load` reads back.

    The file holds the estimator's class and parameters, its fitted attributes
    (tasks, label spaces, target layout, history, ...) as JSON, and every
    tensor (network weights, optimiser state, the weighting strategy's state).
    Loading it never runs code from the file (unlike pickle), and works on a
    machine without the GPU it was trained on. See ``docs/persistence.md``.

    Parameters
    ----------
    model : estimator
        A skmtl estimator (fitted or not): ``MultiTaskClassifier``,
        ``MultiTaskRegressor``, ``MultiTaskEstimator`` or ``MultiTaskTagger``.
        Pipelines, subclasses and other estimators are refused (pickle them).
    path : str or os.PathLike
        The file to write (replaced if it exists); ``.safetensors`` is the
        usual suffix.

    Raises
    ------
    TypeError
        When the model, or one of its parameters or fitted values, is of a
        type a model file cannot hold (the message names it).

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import skmtl
    >>> X = np.random.RandomState(0).normal(size=(60, 4))
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    >>> model = skmtl.MultiTaskClassifier(hidden_layer_sizes=(8,), max_epochs=3,
    ...                                   random_state=0).fit(X, Y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "model.safetensors")
    ...     skmtl.save(model, path)
    ...     loaded = skmtl.load(path)
    >>> bool((loaded.predict(X) == model.predict(X)).all())
    True
    """
    from safetensors.torch import save_file

    name = _class_name(model)
    if name not in _estimator_names():
        raise TypeError(
            f"skmtl.save saves skmtl estimators ({', '.join(_estimator_names())}), got a "
            f"{type(model).__name__}; pickle or joblib can store other objects."
        )
    sink: dict[str, torch.Tensor] = {}
    doc = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "estimator": _encode_object(model, "params", None),
        "fitted": _fitted_doc(model, sink) if hasattr(model, "module_") else None,
    }
    metadata = {_METADATA_KEY: json.dumps(doc, allow_nan=False)}
    # Own contiguous copies: safetensors refuses tensors that share memory.
    tensors = {k: v.contiguous().clone() for k, v in sink.items()}
    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _not_a_model(path: str, head: bytes) -> str:
    if head[:1] == bytes([_PICKLE_PROTO]):
        return (
            f"{path} is not an skmtl model file: it looks like a pickle, which skmtl.load "
            "never unpickles (unpickling can run any code). Open a pickle you trust with "
            "pickle or joblib, or save the model with skmtl.save."
        )
    return f"{path} is not an skmtl model file (skmtl.save writes safetensors files)."


def _reject_constant(name: str):
    raise ValueError(f"the model file holds the JSON constant {name}.")


def _read_document(path: str) -> dict:
    """The JSON document of a model file, checked for format and version."""
    with open(path, "rb") as f:
        head = f.read(8)
        size = os.fstat(f.fileno()).st_size
        n = int.from_bytes(head, "little") if len(head) == 8 else 0
        if not 0 < n <= min(size - 8, _MAX_HEADER):
            raise ValueError(_not_a_model(path, head))
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ValueError(_not_a_model(path, head)) from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or not isinstance(metadata.get(_METADATA_KEY), str):
        raise ValueError(
            f"{path} is a safetensors file but not an skmtl model: its header has no "
            f"{_METADATA_KEY!r} metadata."
        )
    try:
        doc = json.loads(metadata[_METADATA_KEY], parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: the skmtl metadata is not valid JSON ({exc}).") from None
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise ValueError(f"{path} is not an skmtl model file (no {_FORMAT!r} document).")
    version = doc.get("format_version")
    writer = doc.get("versions", {}).get("skmtl") if isinstance(doc.get("versions"), dict) else None
    if type(version) is not int or version != FORMAT_VERSION:
        newer = type(version) is int and version > FORMAT_VERSION
        raise ValueError(
            f"{path} was written by skmtl {writer or 'unknown'} in model format version "
            f"{version!r}; this skmtl ({skmtl_version()}) reads format version "
            f"{FORMAT_VERSION} only." + (" Upgrade skmtl to load it." if newer else "")
        )
    return doc


def _check_attribute_name(name: str, where: str) -> None:
    if not (name.isidentifier() and name.endswith("_") and not name.startswith("_")):
        raise ValueError(f"{where} has an attribute named {name!r}, which no skmtl model has.")


def _restore_fitted(estimator, fitted: dict, tensors: Mapping) -> None:
    from .weighting import WeightingStrategy

    params = set(estimator._get_param_names())
    for name, value in _decode_fields(fitted["attributes"], _Source(tensors)).items():
        _check_attribute_name(name, "the model")
        if name in params or name in _TORCH_ATTRS:
            raise ValueError(f"the model file sets {name!r}, which is no fitted attribute.")
        setattr(estimator, name, value)
    device = loading_device(fitted["device"])
    estimator.device_ = device
    network, _, optimizer = restore_network(estimator, fitted["torch"], tensors, device)
    saved = fitted["weighting"]
    strategy = _decode_object(saved, _Source(tensors))
    if not isinstance(strategy, WeightingStrategy):
        raise ValueError(f"the model file's weighting_ is a {type(strategy).__name__}.")
    for name, value in _decode_fields(saved["state"], _Source(tensors, device)).items():
        if not name.isidentifier() or name.startswith("__"):
            raise ValueError(f"the model file's weighting_ has an attribute named {name!r}.")
        setattr(strategy, name, value)
    estimator.module_, estimator.optimizer_, estimator.weighting_ = network, optimizer, strategy


def load(path: str | os.PathLike):
    """Load an estimator saved by :func:`save`, without running any code from the file.

    The file's JSON may name only allow-listed skmtl classes
    (:data:`ALLOWED_CLASSES`); the network is rebuilt by the estimator's own
    recipe and its weights are copied in. The model is loaded on the device it
    was saved from when torch sees it, else on the CPU (with a warning). A
    fitted model continues training with ``warm_start=True`` exactly as the
    saved one would (the optimiser's and the weighting strategy's states are
    restored).

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    Returns
    -------
    estimator
        The estimator, fitted if it was saved fitted.

    Raises
    ------
    ValueError
        The file is not an skmtl model file (a pickle, another safetensors
        file, a JSON naming a class outside the allow-list, missing fields),
        or it was written in another format version (the message names the
        versions).

    Warns
    -----
    InconsistentVersionWarning
        When another skmtl version saved the file.

    See Also
    --------
    save : Write the file.

    Examples
    --------
    >>> import os, tempfile
    >>> import skmtl
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "spec.safetensors")
    ...     skmtl.save(skmtl.MultiTaskRegressor(hidden_layer_sizes=(32, 16)), path)
    ...     skmtl.load(path).hidden_layer_sizes
    (32, 16)
    """
    path = os.fspath(path)
    doc = _read_document(path)
    try:
        writer = doc["versions"].get("skmtl")
        spec = doc["estimator"]
        estimator = _decode_object(spec, _Source({}))
        if _class_name(estimator) not in _estimator_names():
            raise ValueError(f"the model file holds a {spec['class']}, not an estimator.")
        check_skmtl_version(type(estimator).__name__, writer)
        if doc["fitted"] is not None:
            _restore_fitted(estimator, doc["fitted"], _load_tensors(path))
    except ValueError as exc:
        raise ValueError(f"Cannot load {path}: {exc}") from None
    except (KeyError, TypeError, IndexError, AttributeError, RuntimeError) as exc:
        raise ValueError(
            f"Cannot load {path}: the file is damaged or not an skmtl model "
            f"({type(exc).__name__}: {exc})."
        ) from exc
    return estimator


def _load_tensors(path: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    try:
        return load_file(path, device="cpu")
    except Exception as exc:  # safetensors' own error type: a damaged tensor section
        raise ValueError(f"its tensors cannot be read ({exc}).") from None


def _estimator_names() -> list[str]:
    return [n for n in ALLOWED_CLASSES if n.count(".") == 1]
