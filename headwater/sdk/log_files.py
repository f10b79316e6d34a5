"""Following a log file in bounded memory: what was appended since the last look, chunk by chunk.

``run logs``, ``run logs --follow`` and ``wait_for_completion(show_output=True)`` print step logs
through :class:`LogFollower`, which never holds more than one chunk of a log whatever its size.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

__all__ = ["CHUNK_BYTES", "LogFollower"]

#: How much of a log is read (and held) at once.
CHUNK_BYTES = 256 * 1024


class LogFollower:
    """Writes what was appended to the log at ``path`` since the last :meth:`pump`.

    Bytes are decoded as UTF-8 (bad bytes replaced) across chunk boundaries, so a character split
    between two reads is printed whole.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def pump(self, write: Callable[[str], object], *, whole_lines: bool = False, final: bool = False) -> int:
        """Write the new text through ``write``; return how many bytes of the log that took.

        ``whole_lines``: stop after the last newline (the step is still writing its last line);
        ``final``: the log is complete, flush what the decoder holds.
        """
        taken = 0
        try:
            f = open(self.path, "rb")  # noqa: SIM115  (closed below; a missing log is an empty one)
        except FileNotFoundError:
            return 0
        with f:
            f.seek(self.offset)
            while True:
                chunk = f.read(CHUNK_BYTES)
                if not chunk:
                    break
                last = len(chunk) < CHUNK_BYTES
                if whole_lines and last:  # the end of what was written: hold its unfinished line
                    chunk = chunk[: chunk.rfind(b"\n") + 1]
                self.offset += len(chunk)
                taken += len(chunk)
                text = self._decoder.decode(chunk)
                if text:
                    write(text)
                if last:
                    break
        if final:
            rest = self._decoder.decode(b"", final=True)
            if rest:
                write(rest)
        return taken
