"""A one-line byte counter on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import IO, Optional


def human_bytes(n: float) -> str:
    """containerd's ``progress.Bytes``: ``%02.1f`` with binary units (``1013.1 KiB``)."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    i = 0
    while n >= 1024 and i < len(units) - 1:
        n /= 1024.0
        i += 1
    return f"{n:02.1f} {units[i]}"


class Progress:
    """``progress(n)`` adds ``n`` bytes; redraws at most every 0.1 s; ``close()`` ends the line."""

    def __init__(
        self, label: str, total: Optional[int] = None, stream: Optional[IO[str]] = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = label
        self.total = total
        self.done = 0
        self._last = 0.0

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self._last >= 0.1:
            self._last = now
            self._draw()

    def _draw(self) -> None:
        if self.total:
            width = 30
            filled = min(width, int(width * self.done / self.total))
            bar = "[" + "=" * filled + " " * (width - filled) + "]"
            text = f"{self.label} {bar} {human_bytes(self.done)} / {human_bytes(self.total)}"
        else:
            text = f"{self.label} {human_bytes(self.done)}"
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._last:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
