"""Every public docstring's parameter list matches the code (names and order)."""

import importlib
import inspect
import re

import pytest

# User-facing modules: every public class and function documents every parameter.
USER_MODULES = [
    "skmtl",
    "skmtl.weighting",
    "skmtl.architectures",
    "skmtl.model_selection",
    "skmtl.metrics",
    "skmtl.datasets",
    "skmtl.diagnostics",
    "skmtl.features",
    "skmtl.plotting",
    "skmtl.sampling",
]
# Building blocks for developers: a Parameters section, where there is one, must match.
DEVELOPER_MODULES = ["skmtl.encoders", "skmtl.tasks", "skmtl.heads", "skmtl.engine"]


def documented_parameters(doc: str) -> list[str] | None:
    """The names in a numpydoc ``Parameters`` section, in order (None: no section)."""
    lines = inspect.cleandoc(doc or "").splitlines()
    names, inside, found = [], False, False
    for i, line in enumerate(lines):
        underline = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if re.fullmatch(r"-{3,}", underline):
            inside = line.strip() == "Parameters"
            found |= inside
            continue
        if inside and line and not line.startswith(" ") and not re.fullmatch(r"-{3,}", line):
            names += [n.strip().lstrip("*") for n in line.split(" : ")[0].split(",")]
    return [n for n in names if n] if found else None


def signature_parameters(obj) -> list[str] | None:
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind not in skip]


def public_objects(modules):
    seen = set()
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if id(obj) in seen or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            seen.add(id(obj))
            if inspect.isclass(obj) and obj.__init__ is object.__init__:
                continue
            yield f"{module_name}.{name}", obj


USER_OBJECTS = [(n, o) for n, o in public_objects(USER_MODULES) if signature_parameters(o)]
DEVELOPER_OBJECTS = [
    (n, o)
    for n, o in public_objects(DEVELOPER_MODULES)
    if signature_parameters(o) and documented_parameters(o.__doc__) is not None
]


@pytest.mark.parametrize("name, obj", USER_OBJECTS, ids=[n for n, _ in USER_OBJECTS])
def test_user_facing_docstrings_list_every_parameter(name, obj):
    assert documented_parameters(obj.__doc__) == signature_parameters(obj), name


@pytest.mark.parametrize("name, obj", DEVELOPER_OBJECTS, ids=[n for n, _ in DEVELOPER_OBJECTS])
def test_developer_docstrings_that_list_parameters_list_them_all(name, obj):
    assert documented_parameters(obj.__doc__) == signature_parameters(obj), name


def test_the_parser_reads_numpydoc_sections():
    doc = """Summary.

    Parameters
    ----------
    a, b : int
        Two.
    c
        Three.

    Returns
    -------
    out : int
    """
    assert documented_parameters(doc) == ["a", "b", "c"]
    assert documented_parameters("No sections.") is None
