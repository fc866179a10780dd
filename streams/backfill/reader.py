"""Lines of a dump file, streamed: zstandard (`.zst`, long windows), gzip (`.gz`) or plain NDJSON.

Never holds more than one chunk and one partial line in memory. Lines are split on the byte
`\\n`, which never occurs inside a multi-byte UTF-8 sequence, so a chunk border in the middle of
a character or of a line cannot corrupt either: the partial line is carried to the next chunk.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

CHUNK = 1 << 20
# The Pushshift / Arctic Shift dumps are compressed with --long=31: a window the default
# decompressor limit (128 MiB) refuses ("frame requires too much memory").
MAX_WINDOW = 2**31


class CountingFile(io.RawIOBase):
    """A file that counts the (compressed) bytes read from it: progress against the file's size."""

    def __init__(self, raw: Any) -> None:  # a binary file opened for reading
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.bytes_read += n or 0
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def kind_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".zst"):
        return "zst"
    if name.endswith(".gz"):
        return "gz"
    if name.endswith((".ndjson", ".jsonl", ".json")):
        return "plain"
    raise ValueError(f"{path}: not a .zst, .gz, .ndjson or .jsonl file")


def _decompressed(path: Path, counted: CountingFile) -> BinaryIO:
    kind = kind_of(path)
    if kind == "zst":
        return zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW).stream_reader(counted, read_size=CHUNK)  # type: ignore[arg-type]  # a raw binary file
    if kind == "gz":
        return gzip.GzipFile(fileobj=counted)  # type: ignore[return-value]
    return counted  # type: ignore[return-value]


class DumpReader:
    """`for number, line in DumpReader(path)`: numbered lines (from 1, without the newline)."""

    def __init__(self, path: Path | str, chunk: int = CHUNK) -> None:
        self.path = Path(path)
        self.chunk = chunk
        self.size = self.path.stat().st_size
        self._counted: CountingFile | None = None

    @property
    def compressed_read(self) -> int:
        return self._counted.bytes_read if self._counted else 0

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        self._counted = CountingFile(open(self.path, "rb", buffering=0))  # noqa: SIM115 - closed below
        stream = _decompressed(self.path, self._counted)
        number = 0
        rest = b""
        try:
            while True:
                block = stream.read(self.chunk)
                if not block:
                    break
                lines = (rest + block).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    number += 1
                    yield number, line
            if rest:
                number += 1
                yield number, rest
        finally:
            stream.close()
            self._counted.close()
