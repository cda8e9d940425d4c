"""Integrations of fitted skmtl models with other libraries.

:class:`SkmtlComponent` (spaCy)
    A fitted skmtl model as a spaCy pipeline component:
    ``nlp.add_pipe("skmtl", config={"model": path})``. The factory
    :func:`make_skmtl_component` is registered with spaCy under the name
    ``"skmtl"`` through the ``spacy_factories`` entry point, so an installed
    skmtl makes the name known to every spaCy pipeline.
"""

from ._spacy import SkmtlComponent, make_skmtl_component

__all__ = ["SkmtlComponent", "make_skmtl_component"]
