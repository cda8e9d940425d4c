"""Write the API reference pages (``docs/api/*.rst``) from each public module's ``__all__``.

Run by ``docs/conf.py`` at the start of every build, so a name added to a module's
``__all__`` (or a new public subpackage with an ``__all__``) shows up in the docs without
editing them. Each module gets a page with its docstring and ``autosummary`` tables
(classes, functions, data) whose entries get their own pages under
``docs/api/generated/``. An object that several modules export (``skmtl.MultiTaskClassifier``
is also ``skmtl.estimators.MultiTaskClassifier``) is documented once, under its canonical
module: ``skmtl`` for the top-level names, else the public module it is defined in, else the
first module listing it; the other modules link to it.

Everything under ``docs/api/`` is generated (and git-ignored); files are only rewritten
when their text changes, so an unchanged API does not make Sphinx re-read them.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

PACKAGE = "skmtl"
# The order of the API index; any other public module with an ``__all__`` follows.
MODULES = [
    "skmtl",
    "skmtl.estimators",
    "skmtl.architectures",
    "skmtl.weighting",
    "skmtl.sampling",
    "skmtl.tasks",
    "skmtl.heads",
    "skmtl.encoders",
    "skmtl.engine",
    "skmtl.features",
    "skmtl.datasets",
    "skmtl.diagnostics",
    "skmtl.metrics",
    "skmtl.model_selection",
    "skmtl.plotting",
    "skmtl.integrations",
    "skmtl.utils",
]

_SCALARS = (str, bytes, int, float, complex, bool, type(None))


def _kind(obj) -> str:
    if inspect.isclass(obj):
        return "class"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj) or inspect.ismethod(obj):
        return "function"
    return "data"


def public_modules() -> list[str]:
    """``MODULES`` that exist, then the other public modules of the package with ``__all__``."""
    package = importlib.import_module(PACKAGE)
    names = []
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a subpackage not written yet: skip it, loudly
            if exc.name != name:
                raise
            print(f"[api] {name} does not exist: left out of the API reference")
            continue
        names.append(name)
    for info in pkgutil.iter_modules(package.__path__, PACKAGE + "."):
        if info.name.rsplit(".", 1)[-1].startswith("_") or info.name in names:
            continue
        if hasattr(importlib.import_module(info.name), "__all__"):
            names.append(info.name)
    return names


def _canonical_module(obj, exporters: list[str]) -> str:
    if PACKAGE in exporters:
        return PACKAGE
    defined_in = getattr(obj, "__module__", None) or ""
    homes = [m for m in exporters if defined_in == m or defined_in.startswith(m + ".")]
    return max(homes, key=len) if homes else exporters[0]


def collect(modules: list[str]) -> dict[str, list[tuple[str, str, str | None]]]:
    """For each module, ``(name, kind, canonical full name or None)`` per ``__all__`` entry.

    The canonical full name is None when the object is documented on this module's page.
    """
    exporters: dict[int, list[str]] = {}
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not isinstance(obj, _SCALARS):
                exporters.setdefault(id(obj), []).append(module_name)
    entries = {}
    for module_name in modules:
        module = importlib.import_module(module_name)
        rows = []
        for name in module.__all__:
            obj = getattr(module, name)
            kind = _kind(obj)
            home = module_name
            if not isinstance(obj, _SCALARS):
                home = _canonical_module(obj, exporters[id(obj)])
            if home != module_name:
                # Documented under the name its home module exports it by.
                home_module = importlib.import_module(home)
                alias = next(n for n in home_module.__all__ if getattr(home_module, n) is obj)
                rows.append((name, kind, f"{home}.{alias}"))
            else:
                rows.append((name, kind, None))
        entries[module_name] = rows
    return entries


def _is_metadata_request_method(name: str) -> bool:
    # scikit-learn's set_fit_request & co., generated on every estimator class for metadata
    # routing: documented by scikit-learn, and their docstrings use its glossary.
    return name.startswith("set_") and name.endswith("_request")


def _own_package(cls) -> bool:
    return (getattr(cls, "__module__", "") or "").split(".")[0] == PACKAGE


def class_info(cls) -> dict:
    """What the class template needs: the methods to list, the bases not to document.

    ``methods``: the public methods with a docstring that the class defines or inherits
    from a class of this package (``fit``, ``predict``, ... of the estimators come from
    their skmtl base class), not those of scikit-learn's or torch's base classes.
    ``external_bases``: the names of the classes of other packages in the MRO, for
    autodoc's ``:inherited-members:`` (it leaves out what these classes define).
    """
    methods = []
    for name in sorted(dir(cls)):
        if name.startswith("_") or _is_metadata_request_method(name):
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or not _own_package(owner):
            continue
        value = getattr(cls, name)  # a function also for scikit-learn's available_if
        if (inspect.isfunction(value) or inspect.ismethod(value)) and inspect.getdoc(value):
            methods.append(name)
    external = sorted({k.__name__ for k in cls.__mro__ if not _own_package(k)})
    return {"methods": methods, "external_bases": ", ".join(external)}


def template_context(modules: list[str]) -> dict:
    """``{full name: class_info}`` of every documented class (``autosummary_context``)."""
    info = {}
    for module_name, rows in collect(modules).items():
        module = importlib.import_module(module_name)
        for name, kind, home in rows:
            if kind == "class" and home is None:
                info[f"{module_name}.{name}"] = class_info(getattr(module, name))
    return info


_SECTIONS = [("class", "Classes"), ("function", "Functions"), ("data", "Constants")]


def module_page(module_name: str, rows) -> str:
    lines = [module_name, "=" * len(module_name), ""]
    lines += [f".. automodule:: {module_name}", "   :no-members:", ""]
    lines += [f".. currentmodule:: {module_name}", ""]
    for kind, title in _SECTIONS:
        names = [name for name, k, home in rows if k == kind and home is None]
        if not names:
            continue
        lines += [f".. rubric:: {title}", "", ".. autosummary::", "   :toctree: generated"]
        lines += ["   :nosignatures:", ""]
        lines += [f"   {name}" for name in names]
        lines += [""]
    elsewhere = [(name, home) for name, _, home in rows if home is not None]
    if elsewhere:
        lines += [".. rubric:: Also exported here", ""]
        lines += ["Documented under their canonical names:", ""]
        lines += [f"- ``{module_name}.{name}``: :obj:`{home}`" for name, home in elsewhere]
        lines += [""]
    return "\n".join(lines)


def index_page(modules: list[str]) -> str:
    title = "API reference"
    lines = [title, "=" * len(title), ""]
    lines += [
        "Every public name of every public module: what each module's ``__all__`` lists",
        "(this page is generated from them, see ``docs/_generate_api.py``).",
        "The estimators and the most used functions are importable from ``skmtl`` itself.",
        "",
        ".. toctree::",
        "   :hidden:",
        "",
    ]
    lines += [f"   {name}" for name in modules]
    lines += ["", ".. list-table::", "   :widths: 25 75", ""]
    for name in modules:
        doc = inspect.getdoc(importlib.import_module(name)) or ""
        summary = " ".join(doc.split("\n\n")[0].split())
        lines += [f"   * - :mod:`{name}`", f"     - {summary}"]
    lines += [""]
    return "\n".join(lines)


def _write(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def generate(out_dir: Path) -> list[str]:
    """Write ``index.rst`` and one page per module into ``out_dir``; returns the modules.

    Pass the modules to :func:`template_context` for the class pages' context.
    """
    modules = public_modules()
    entries = collect(modules)
    pages = {"index.rst": index_page(modules)}
    stubs = set()  # the autosummary pages of the documented objects (generated/<name>.rst)
    for module_name in modules:
        pages[f"{module_name}.rst"] = module_page(module_name, entries[module_name])
        stubs |= {f"{module_name}.{name}.rst" for name, _, home in entries[module_name] if not home}
    written = sum(_write(out_dir / name, text) for name, text in pages.items())
    # Pages of modules or names that are gone would be orphans (a warning, so an error).
    stale = [p for p in out_dir.glob("*.rst") if p.name not in pages]
    stale += [p for p in (out_dir / "generated").glob("*.rst") if p.name not in stubs]
    for path in stale:
        path.unlink()
    print(f"[api] {len(modules)} modules, {written} pages rewritten, {len(stale)} stale removed")
    return modules


if __name__ == "__main__":
    generate(Path(__file__).resolve().parent / "api")
