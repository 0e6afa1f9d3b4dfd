"""Apps that keep GGUF files in a plain folder: GPT4All and Jan (and the base LM Studio and
llama.cpp's cache build on). A model is one ``.gguf`` file, named by its path in the folder:

    gpt4all:Llama-3.2-1B-Instruct-Q4_0.gguf      ~/.local/share/nomic.ai/GPT4All/*.gguf
    jan:llama3.2-1b-instruct/model.gguf          ~/jan/models, ~/.local/share/Jan/data/models
"""

from __future__ import annotations

from pathlib import Path

from .. import config
from .base import Spec
from .discovery import Discovery, Found, FoundFile, FoundSource, file_of, format_of, gguf_strings, walk_files


def _existing(paths: list[Path]) -> list[Path]:
    seen: list[Path] = []
    for p in paths:
        if p.is_dir() and p.resolve() not in [s.resolve() for s in seen]:
            seen.append(p)
    return seen


class FolderStore(FoundSource):
    """GGUF files under a tool's folder(s); the ref is ``kind:relative/path.gguf``."""

    depth = 1  # folders below a root where model files may lie
    suffixes: tuple[str, ...] = (".gguf",)

    def roots(self) -> list[Path]:
        raise NotImplementedError

    def sidecars(self, path: Path) -> list[FoundFile]:
        """Files that go with a model file (an LM Studio projector...)."""
        return []

    def annotate(self, found: Found, path: Path) -> None:
        """Add what the tool knows of the file (licence, origin, the digest it names)."""

    def skip(self, path: Path) -> bool:
        return "mmproj" in path.name.lower()

    def found(self, root: Path, path: Path) -> Found | None:
        f = file_of(path)
        if f is None:
            return None
        name = path.relative_to(root).as_posix()
        found = Found(store=self.kind, ref=f"{self.kind}:{name}", name=name, files=[f, *self.sidecars(path)],
                      format=format_of(path.name), modified=f.st.st_mtime)
        self.annotate(found, path)
        if found.license is None and found.format == "gguf":
            found.license = gguf_strings(f).get("general.license")
        return found

    def discover(self) -> Discovery:
        out = Discovery()
        for root in self.roots():
            for path in walk_files(root, self.suffixes, self.depth):
                if self.skip(path):
                    continue
                found = self.found(root, path)
                if found is not None:
                    out.found.append(found)
        return out

    def find(self, spec: Spec) -> Found | None:
        """The file the name gives; ``NAME`` without ``.gguf`` and a folder holding one model file work too."""
        for root in self.roots():
            path = root / spec.name
            if path.is_dir():
                files = [p for p in walk_files(path, self.suffixes, 1) if not self.skip(p)]
                path = files[0] if len(files) == 1 else path
            elif not path.exists() and not path.name.lower().endswith(self.suffixes):
                path = path.with_name(path.name + self.suffixes[0])
            if path.is_file() and path.name.lower().endswith(self.suffixes):
                return self.found(root, path)
        return None


class Gpt4allSource(FolderStore):
    kind = "gpt4all"
    owner = "GPT4All"

    def roots(self) -> list[Path]:
        named = config.settings().gpt4all_models
        if named is not None:
            return [named]
        return _existing([Path.home() / ".local" / "share" / "nomic.ai" / "GPT4All",
                          Path.home() / "Library" / "Application Support" / "nomic.ai" / "GPT4All"])


class JanSource(FolderStore):
    kind = "jan"
    owner = "Jan"
    depth = 3

    def roots(self) -> list[Path]:
        named = config.settings().jan_models
        if named is not None:
            return [named]
        share = Path.home() / ".local" / "share" / "Jan" / "data"
        return _existing([Path.home() / "jan" / "models", share / "models", share / "llamacpp" / "models"])
