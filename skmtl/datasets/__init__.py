"""Loaders for real NLP data sets used to demonstrate and benchmark skmtl.

Each loader reads the upstream file format. With ``path=None`` it reads a small
sample shipped inside the package (see ``skmtl/datasets/data/ATTRIBUTION.md``
for sources, licenses and how the samples were drawn); pass the directory of
the full upstream files to load the complete data.
"""

from ._conll import load_ewt, read_conllu, read_iob2
from ._emobank import load_emobank
from ._goemotions import load_goemotions

__all__ = ["load_emobank", "load_goemotions"]
__all__ += ["load_ewt", "read_conllu", "read_iob2"]
