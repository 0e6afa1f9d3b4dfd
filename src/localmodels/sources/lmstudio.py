"""``lmstudio:publisher/repo/file.gguf``: a GGUF LM Studio downloaded, used where it lies.

LM Studio keeps ``<publisher>/<repo>/*.gguf`` under ``~/.lmstudio/models`` (older versions:
``~/.cache/lm-studio/models``), or under the folder its settings name (``downloadsFolder``). A
projector (``mmproj-*.gguf``) in the same folder goes with every model file there.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import config
from .appfolders import FolderStore, _existing
from .discovery import FoundFile, file_of

_SETTINGS = (Path(".lmstudio") / "settings.json", Path(".cache") / "lm-studio" / ".internal" / "app-settings.json")


def settings_folder(home: Path) -> Path | None:
    """The models folder LM Studio's own settings name, if any."""
    for rel in _SETTINGS:
        try:
            data = json.loads((home / rel).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        folder = data.get("downloadsFolder") if isinstance(data, dict) else None
        if isinstance(folder, str) and folder:
            return Path(folder).expanduser()
    return None


class LmStudioSource(FolderStore):
    kind = "lmstudio"
    owner = "LM Studio"
    depth = 2

    def roots(self) -> list[Path]:
        named = config.settings().lmstudio_models
        if named is not None:
            return [named]
        home = Path.home()
        extra = settings_folder(home)
        return _existing([home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models",
                          *([extra] if extra else [])])

    def sidecars(self, path: Path) -> list[FoundFile]:
        out = []
        for p in sorted(path.parent.glob("*.gguf")):
            if "mmproj" in p.name.lower():
                f = file_of(p)
                if f is not None:
                    out.append(f)
        return out
