"""Pull progress: live bars on a terminal (``tqdm``, imported only then), one line per
finished blob otherwise, nothing with ``--quiet``."""

from __future__ import annotations

import threading
import time
from typing import IO, Any, Dict, Optional

from runcore.api import human_bytes


class Reporter:
    """Quiet: the interface every reporter has; it prints nothing."""

    def __init__(self, stream: Optional[IO[str]] = None) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.fetched = 0
        self._lock = threading.Lock()

    def blob_started(self, key: str, size: int) -> None:
        """A blob is being fetched (not called for blobs already present)."""

    def advance(self, key: str, n: int) -> None:
        with self._lock:
            self.fetched += n

    def blob_done(self, key: str, size: int, fetched: bool) -> None:
        """A blob is in the content store (``fetched``: by this pull)."""

    def line(self, text: str) -> None:
        """A status line (``unpacking …``)."""

    def close(self, ok: bool) -> None:
        """The pull ended."""


class LineReporter(Reporter):
    """Not a terminal: one line per finished blob, then a summary."""

    def _write(self, text: str) -> None:
        assert self.stream is not None
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def blob_done(self, key: str, size: int, fetched: bool) -> None:
        self._write(f"{key}: {'done' if fetched else 'exists'} {human_bytes(size)}")

    def line(self, text: str) -> None:
        self._write(text)

    def close(self, ok: bool) -> None:
        if ok:
            elapsed = time.monotonic() - self.started
            rate = self.fetched / elapsed if elapsed > 0 else 0.0
            self._write(
                f"done: {elapsed:.1f}s, fetched {human_bytes(self.fetched)} ({human_bytes(rate)}/s)"
            )


class BarReporter(LineReporter):
    """A terminal: one live ``tqdm`` bar per blob being fetched (bytes, total, speed)."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(stream)
        import tqdm

        self._tqdm = tqdm.tqdm
        encoding = (getattr(stream, "encoding", "") or "").lower().replace("-", "")
        self._ascii = not encoding.startswith("utf")  # block characters need UTF-8
        self._bars: Dict[str, Any] = {}

    def blob_started(self, key: str, size: int) -> None:
        with self._lock:
            self._bars[key] = self._tqdm(
                total=size,
                desc=_short_key(key),
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=self.stream,
                leave=True,
                ncols=self._size()[0],
                nrows=self._size()[1],
                mininterval=0.1,
                ascii=self._ascii,
            )

    def _size(self) -> "tuple[int, int]":
        """(columns, lines) of the terminal; 100x50 when it does not say (a fresh pty)."""
        import os

        try:
            size = os.get_terminal_size(self.stream.fileno())  # type: ignore[union-attr]
            cols, rows = size.columns, size.lines
        except (OSError, AttributeError, ValueError):
            cols, rows = 0, 0
        return (cols if cols > 0 else 100, rows if rows > 0 else 50)

    def advance(self, key: str, n: int) -> None:
        super().advance(key, n)
        bar = self._bars.get(key)
        if bar is not None:
            bar.update(n)

    def blob_done(self, key: str, size: int, fetched: bool) -> None:
        with self._lock:
            bar = self._bars.pop(key, None)
        if bar is not None:
            bar.close()

    def line(self, text: str) -> None:
        with self._lock:
            self._tqdm.write(text, file=self.stream)

    def close(self, ok: bool) -> None:
        with self._lock:
            bars, self._bars = list(self._bars.values()), {}
        for bar in bars:
            bar.close()
        super().close(ok)


def _short_key(key: str) -> str:
    kind, _, digest = key.partition("-sha256:")
    return f"{kind} {digest[:12]}" if digest else key[:40]


def reporter(stream: IO[str], quiet: bool) -> Reporter:
    """The reporter for ``stream``: quiet, bars on a terminal, lines otherwise."""
    if quiet:
        return Reporter(stream)
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return BarReporter(stream)
    return LineReporter(stream)
