"""Loaders for real NLP data sets used to demonstrate and benchmark skmtl.

Each loader reads the upstream file format. With ``path=None`` it reads a small
sample shipped inside the package (see ``skmtl/datasets/data/ATTRIBUTION.md``
for sources, licenses and how the samples were drawn); pass the directory of
the full upstream files to load the complete data.

Two sequence-to-sequence corpora are never shipped (their terms are
non-commercial): :func:`load_multi30k` and :func:`load_aeslc` need the folder
that holds them (``shared/data/multi30k`` and ``shared/data/aeslc`` in this
project). :func:`load_seq2seq_sample` reads a small synthetic corpus of skmtl's
own making (English -> German / French and email -> subject) shipped with the
package.
"""

from ._aeslc import load_aeslc
from ._conll import load_ewt, read_conllu, read_iob2
from ._emobank import load_emobank
from ._goemotions import load_goemotions
from ._multi30k import load_multi30k
from ._seq2seq_sample import load_seq2seq_sample

__all__ = ["load_emobank", "load_goemotions"]
__all__ += ["load_ewt", "read_conllu", "read_iob2"]
__all__ += ["load_multi30k", "load_aeslc", "load_seq2seq_sample"]
