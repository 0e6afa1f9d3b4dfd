"""Bundles for air-gapped machines: ``localmodels export`` / ``localmodels import``.

A bundle is a plain tar (``.tar``, or ``.tar.gz`` / ``.tgz``) holding::

    hub/...                    each file of each model, a regular file at its place in a Hugging
                               Face cache snapshot (see BundleModel.member)
    localmodels-bundle.json    the digests: repo id, commit, and every file's path, size, sha256
                               and HF cache blob name

The work is split by concern:

- :mod:`.bundle_index`: the index format and the safe reading of a tar (:func:`read_index`);
- :mod:`.bundle_export`: choosing the models (from a lock or references) and writing the tar;
- :mod:`.bundle_import`: extracting, verifying every digest, then placing (nothing changes before);
- :mod:`.bundle_place`: the undoable moves into the Hugging Face cache, and :func:`write_ref`.
"""

from __future__ import annotations

from .bundle_export import ExportResult, bundle_models_from_lock, bundle_models_from_refs, export_bundle
from .bundle_import import ImportResult, import_bundle
from .bundle_index import BUNDLE_MANIFEST, BundleFile, BundleIndex, BundleModel, read_index
from .bundle_place import write_ref

__all__ = ["BUNDLE_MANIFEST", "BundleFile", "BundleIndex", "BundleModel", "ExportResult", "ImportResult",
           "bundle_models_from_lock", "bundle_models_from_refs", "export_bundle", "import_bundle", "read_index",
           "write_ref"]
