"""pytest plugin (entry point ``localmodels``): the ``local_model`` fixture.

    def test_embeds(local_model):
        model = local_model("minilm")        # a LocalModel, resolved without any network request
        ...

A model that is not in the store skips the test, with the command that fetches it; under
``--localmodels-strict`` or ``LOCALMODELS_STRICT=1`` (set it in CI) the test fails instead, so a
missing model can never be silently skipped.

A name that is a table of the project's ``localmodels.toml`` resolves to that table's reference;
when ``localmodels.lock`` pins it to a Hub commit, exactly that commit is used.

Import-light on purpose: pytest loads this module in every test session of any project that has
localmodels installed, so localmodels itself is imported only when the fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_MISSING_KEY = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("localmodels")
    group.addoption(
        "--localmodels-strict", action="store_true", default=False,
        help="fail (do not skip) tests whose model is not in the localmodels store; also LOCALMODELS_STRICT=1",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_MISSING_KEY] = []


def _strict(config: pytest.Config) -> bool:
    from localmodels import config as settings

    return bool(config.getoption("localmodels_strict", default=False)) or settings.strict()


def _project_ref(name: str, rootpath: Path) -> tuple[str, str]:
    """(reference to resolve, command that fetches it) for a fixture argument."""
    manifest_path = rootpath / "localmodels.toml"
    if not manifest_path.is_file():
        return name, f"localmodels pull {name}"
    from localmodels.store.lockfile import read_lock
    from localmodels.store.manifest import load_manifest
    from localmodels.store.sync import locked_ref, pinned_spec_ref

    manifest = load_manifest(manifest_path)
    spec = manifest.get(name)
    if spec is None:
        return name, f"localmodels pull {name}"
    lock_path = rootpath / "localmodels.lock"
    if lock_path.is_file():
        locked = read_lock(lock_path).get(name)
        if locked is not None and locked.spec_key() == spec.spec_key():
            return locked_ref(locked, manifest.root), "localmodels sync"
    return pinned_spec_ref(spec, manifest.root), "localmodels sync   (or: localmodels lock)"


@pytest.fixture
def local_model(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``local_model(ref)`` -> the resolved :class:`localmodels.LocalModel`, or skip (fail when strict)."""
    config = request.config

    def get(ref: str) -> Any:
        from localmodels.errors import NotInStoreError
        from localmodels.store import resolve

        target, fetch = _project_ref(ref, Path(config.rootpath))
        try:
            return resolve(target, offline=True)
        except NotInStoreError as e:
            reason = f"model {ref!r} is not in the localmodels store ({e.message}); fetch it with: {fetch}"
            config.stash[_MISSING_KEY].append((ref, fetch))
            if _strict(config):
                pytest.fail(reason + "  [strict: --localmodels-strict / LOCALMODELS_STRICT=1]", pytrace=False)
            pytest.skip(reason)

    return get


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    missing = config.stash.get(_MISSING_KEY, [])
    if not missing:
        return
    seen: dict[str, str] = {}
    for ref, fetch in missing:
        seen.setdefault(ref, fetch)
    verb = "failed" if _strict(config) else "skipped"
    terminalreporter.write_sep("-", f"localmodels: tests {verb} for missing models")
    for ref, fetch in seen.items():
        terminalreporter.write_line(f"{ref}: {fetch}")
