"""Sphinx configuration of the skmtl documentation site (``make docs``).

Built with warnings as errors (``sphinx -W --keep-going``). Nothing is fetched from the
network, at build time or when a page is viewed: no intersphinx, no web fonts, no
analytics, no CDN (``make docs-check`` fails on any external script, stylesheet or image).

Importing this file has no side effects (pytest imports every ``docs/*.py`` for
doctests): the API pages are written when Sphinx calls ``setup``.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent

project = "skmtl"
author = "skmtl developers"
copyright = "skmtl developers"


def _version() -> str:
    # The version without importing skmtl (and torch) at configuration time.
    init = (DOCS.parent / "skmtl" / "__init__.py").read_text(encoding="utf-8")
    line = next(ln for ln in init.splitlines() if ln.startswith("__version__"))
    return line.split("=", 1)[1].strip().strip("\"'")


release = version = _version()

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "sphinx.ext.viewcode",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
language = "en"

# -- autodoc / autosummary / numpydoc ----------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters sections give the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # the autosummary template lists the members
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- MyST (the markdown pages) -----------------------------------------------------------
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3  # `page.md#a-heading` links, as on GitHub

# -- sphinx-gallery ----------------------------------------------------------------------
# Every example is executed, except (shown with its code, not run):
#   translate_and_summarize.py: trains a Transformer seq2seq model with three decoders,
#   about 2 minutes on 2 cores (3.5 on a busy machine), more than the whole rest of the
#   gallery (the other examples take 0.5-20 s each in the build). It still runs in the
#   test suite (tests/test_examples.py) and with `make examples`.
_NOT_EXECUTED = ["translate_and_summarize.py"]
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/(?!(?:" + "|".join(n.replace(".", r"\.") for n in _NOT_EXECUTED)
    + r")$)[^/\\]+\.py$",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "run_stale_examples": False,
    "download_all_examples": False,
    "show_memory": False,
    # The execution-times pages load jQuery and DataTables from CDNs: not written.
    "write_computation_times": False,
}

# -- HTML (pydata-sphinx-theme) ----------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skmtl {release}"
html_static_path: list[str] = []
html_theme_options = {
    # The navbar shows the root toctree: User guide, API, Examples gallery, Install,
    # Benchmarks, Reliability, Contributing; Persistence and FAQ go under "More".
    "header_links_before_dropdown": 7,
    "navbar_align": "left",
    "navbar_end": ["theme-switcher"],
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink", "sg_download_links"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
# The light / dark mode before the reader picks one (without it the theme's script logs a
# console error on a first visit: "Got invalid theme mode").
html_context = {"default_mode": "auto"}
html_sidebars = {"index": [], "benchmarks": [], "install": [], "reliability": []}


def _write_api_pages(app, config):
    sys.path.insert(0, str(DOCS))
    try:
        import _generate_api
    finally:
        sys.path.remove(str(DOCS))
    modules = _generate_api.generate(DOCS / "api")
    # The class template (_templates/autosummary/class.rst) reads skmtl_api[fullname].
    config.autosummary_context = {"skmtl_api": _generate_api.template_context(modules)}


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's set_fit_request & co.: generated on each estimator class for metadata
    # routing, documented by scikit-learn (their docstrings use its glossary).
    return True if name.startswith("set_") and name.endswith("_request") else None


def setup(app):
    os.environ.setdefault("MPLBACKEND", "Agg")  # the gallery draws without a display
    # config-inited: before Sphinx looks for source files and autosummary for its stubs.
    app.connect("config-inited", _write_api_pages, priority=100)
    app.connect("autodoc-skip-member", _skip_member)
