"""Lazy attributes for packages: ``import localmodels`` stays cheap until a name is used.

In a package's ``__init__.py``::

    from typing import TYPE_CHECKING
    from ._lazy import attach

    _LAZY = {"pull": "store", "embed": "tasks", "errors": "errors"}   # name -> submodule
    __getattr__, __dir__, __all__ = attach(__name__, _LAZY)

    if TYPE_CHECKING:  # the same names, spelled out for IDEs and type checkers
        from . import errors
        from .store import pull
        from .tasks import embed

Submodules are relative to the package (``"store"``, ``"._pull"`` or ``"runtimes.onnx"``). A name is
the submodule's attribute of that name, or the submodule itself when it has none and the name is
the submodule's own (``"errors": "errors"``). ``tests/test_layers.py`` checks that the
``TYPE_CHECKING`` block names exactly the keys of ``_LAZY``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def _load(package: str, name: str, module: str) -> Any:
    mod = importlib.import_module(f"{package}.{module.lstrip('.')}")
    if hasattr(mod, name):
        return getattr(mod, name)
    if module.rsplit(".", 1)[-1] == name:
        return mod
    raise AttributeError(f"module {mod.__name__!r} has no attribute {name!r} (listed in {package}'s _LAZY)")


def lazy_getattr(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<names[name]>`` on first use and caches it."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = _load(package, name, module)
        sys.modules[package].__dict__[name] = value  # the next lookup skips __getattr__
        return value

    return __getattr__


def attach(package: str, names: dict[str, str], *, extra: tuple[str, ...] = ()
           ) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for a package whose public names are ``names`` (plus
    ``extra`` names it defines itself, e.g. ``__version__``)."""
    public = sorted({*names, *extra})

    def __dir__() -> list[str]:
        return list(public)

    return lazy_getattr(package, names), __dir__, public
