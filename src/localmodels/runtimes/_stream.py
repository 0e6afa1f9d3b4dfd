"""A streamed generation: an iterator of text pieces that keeps the final :class:`Generation`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..results import Generation


class GenerationStream(Iterator[str]):
    """Iterate to get text pieces as they are generated; ``result`` is set once the stream ends.

    ``close()`` (or leaving a ``with`` block) stops the generation early and frees the model.
    """

    def __init__(self, pieces: Iterator[str], finish: Callable[[str], Generation]) -> None:
        self._pieces = pieces
        self._finish = finish
        self._parts: list[str] = []
        self.result: Generation | None = None

    def __iter__(self) -> GenerationStream:
        return self

    def __next__(self) -> str:
        if self.result is not None:
            raise StopIteration
        try:
            piece = next(self._pieces)
        except StopIteration:
            self.result = self._finish("".join(self._parts))
            raise
        except BaseException:
            self.close()
            raise
        self._parts.append(piece)
        return piece

    @property
    def text(self) -> str:
        """The text streamed so far."""
        return "".join(self._parts)

    def close(self) -> None:
        close = getattr(self._pieces, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> GenerationStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # release a model lock held by an abandoned stream
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass
