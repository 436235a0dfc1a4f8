"""Turning a landing file's bytes into numbered text lines, streamed.

Row-level damage (a few undecodable lines, a line longer than the limit) is kept apart for
quarantine, while damage to the whole file (a cut gzip stream, the wrong encoding, an empty
transfer) raises `UnreadableFile`, so that a partition never half-loads a file that nobody can
read correctly.

The file is read and decompressed in chunks: memory holds one chunk and the lines kept, never
the whole file nor its decompressed content, so a gzip bomb costs time, not memory. A line
longer than `max_line_bytes` keeps only its first bytes (for quarantine); the rest of it is
skipped as it streams by. The SHA-256 is computed over the very bytes parsed, so the recorded
checksum is that of what was loaded, even if the file is rewritten while it is read.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ingestion.errors import UnreadableFile

MIN_UNDECODABLE_LINES = 3
CHUNK_BYTES = 1 << 20
# What a quarantined over-long line keeps of itself.
KEPT_PREFIX_BYTES = 200
UTF8_BOM = b"\xef\xbb\xbf"
WHITESPACE = b" \t\r\n\x0b\x0c"


@dataclass(frozen=True)
class DecodedLines:
    """Lines of a file by 1-based line number, and the lines that could not be decoded."""

    numbers: list[int]
    texts: list[str]
    undecodable: list[tuple[int, str, str]]  # (line number, text with replacements, problem)
    ends_with_newline: bool
    # (line number, first bytes decoded with replacements, problem)
    too_long: list[tuple[int, str, str]]
    sha256: str  # of the file's bytes as read (compressed bytes for .gz)

    @property
    def last_line_number(self) -> int:
        candidates = [n for n, _, _ in self.undecodable + self.too_long] + self.numbers[-1:]
        return max(candidates, default=0)


class _HashingReader(io.RawIOBase):
    """A file read through SHA-256: the digest covers exactly the bytes handed on."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        self.digest.update(data)
        self.size += len(data)
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        """Hash what the decompressor left unread (padding after the gzip stream)."""
        while data := self._stream.read(CHUNK_BYTES):
            self.digest.update(data)
            self.size += len(data)


class _LineSplitter:
    """Lines of a byte stream, streamed: (line without its newline, None), or (first bytes,
    full length) for a line longer than `max_line_bytes`. Afterwards `content_bytes` and
    `ends_with_newline` describe the stream."""

    def __init__(self, stream: BinaryIO, max_line_bytes: int) -> None:
        self._stream = stream
        self._max = max_line_bytes
        self.content_bytes = 0
        self.ends_with_newline = False

    def __iter__(self) -> Iterator[tuple[bytes, int | None]]:
        carry = b""
        skipping: tuple[bytes, int] | None = None  # over-long line: (prefix, length so far)
        while chunk := self._stream.read(CHUNK_BYTES):
            self.content_bytes += len(chunk)
            if skipping is not None:
                end = chunk.find(b"\n")
                if end < 0:
                    skipping = (skipping[0], skipping[1] + len(chunk))
                    continue
                yield skipping[0], skipping[1] + end
                skipping = None
                chunk = chunk[end + 1 :]
            parts = (carry + chunk).split(b"\n")
            carry = parts.pop()
            for part in parts:
                if len(part) > self._max:
                    yield part[:KEPT_PREFIX_BYTES], len(part)
                else:
                    yield part, None
            if len(carry) > self._max:
                skipping, carry = (carry[:KEPT_PREFIX_BYTES], len(carry)), b""
        if skipping is not None:
            yield skipping
        elif carry:
            yield carry, None
        else:
            self.ends_with_newline = self.content_bytes > 0


def read_lines(
    path: Path,
    label: str,
    encoding: str,
    max_undecodable_share: float,
    max_line_bytes: int,
) -> DecodedLines:
    """Stream the file (gunzipped when its name ends in .gz), split and decode its lines."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise UnreadableFile(label, f"cannot be opened ({exc.strerror})") from exc
    with handle:
        _refuse_empty_transfer(handle, label)
        hashing = _HashingReader(handle)
        buffered = io.BufferedReader(hashing, CHUNK_BYTES)
        stream: BinaryIO = gzip.GzipFile(fileobj=buffered) if path.suffix == ".gz" else buffered
        splitter = _LineSplitter(stream, max_line_bytes)
        try:
            decoded = _decode(splitter, encoding, label, max_line_bytes)
        except EOFError as exc:
            raise UnreadableFile(label, "gzip stream is truncated (file cut short)") from exc
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise UnreadableFile(label, f"not a valid gzip file ({exc})") from exc
        except OSError as exc:
            raise UnreadableFile(label, f"cannot be read ({exc})") from exc
        hashing.drain()
    numbers, texts, undecodable, too_long = decoded
    if splitter.content_bytes and not (numbers or undecodable or too_long):
        raise UnreadableFile(
            label, "holds only whitespace: most likely a failed transfer, deliver it again"
        )
    total = len(numbers) + len(undecodable)
    # A handful of damaged lines is row damage (quarantine); many is a file in another encoding.
    if (
        len(undecodable) > MIN_UNDECODABLE_LINES
        and len(undecodable) / total > max_undecodable_share
    ):
        raise UnreadableFile(
            label,
            f"{len(undecodable)} of {total} lines are not valid {encoding}: the file is in the "
            f"wrong encoding (expected {encoding})",
        )
    return DecodedLines(
        numbers,
        texts,
        undecodable,
        splitter.ends_with_newline,
        too_long,
        hashing.digest.hexdigest(),
    )


def _refuse_empty_transfer(handle: BinaryIO, label: str) -> None:
    """A 0-byte or whitespace-only file is a transfer that failed, never an empty day (an
    empty day is a header row, or an empty gzip stream, which has bytes)."""
    head = handle.read(CHUNK_BYTES)
    handle.seek(0)
    if not head:
        raise UnreadableFile(
            label, "is empty (0 bytes): most likely a failed transfer, deliver it again"
        )
    if len(head) < CHUNK_BYTES and not head.strip(WHITESPACE):
        raise UnreadableFile(
            label, "holds only whitespace: most likely a failed transfer, deliver it again"
        )


def _decode(
    lines: _LineSplitter, encoding: str, label: str, max_line_bytes: int
) -> tuple[list[int], list[str], list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    windows_1257 = encoding.lower() in {"cp1257", "windows-1257"}
    utf8 = encoding.lower().replace("_", "-") in {"utf-8", "utf8"}
    numbers: list[int] = []
    texts: list[str] = []
    undecodable: list[tuple[int, str, str]] = []
    too_long: list[tuple[int, str, str]] = []
    all_ascii, all_utf8 = True, True
    for number, (raw, length) in enumerate(lines, start=1):
        if number == 1 and utf8 and raw.startswith(UTF8_BOM):
            raw = raw[len(UTF8_BOM) :]  # a byte-order mark says UTF-8, nothing more
        if windows_1257 and not raw.isascii():
            all_ascii = False
            if all_utf8:
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    all_utf8 = False
        if length is not None:
            too_long.append(
                (
                    number,
                    raw.decode(encoding, errors="replace"),
                    f"line is {length:_} bytes long, more than the limit of {max_line_bytes:_} "
                    f"(CRIMESTAT_MAX_LINE_BYTES); only its first {len(raw)} bytes are kept",
                )
            )
        else:
            _decode_line(raw, number, encoding, numbers, texts, undecodable)
    if windows_1257 and not all_ascii and all_utf8:
        # Windows-1257 text with national letters is practically never valid UTF-8; UTF-8 is.
        raise UnreadableFile(
            label, "the file is encoded in UTF-8, but this register delivers Windows-1257"
        )
    return numbers, texts, undecodable, too_long


def _decode_line(
    raw: bytes,
    number: int,
    encoding: str,
    numbers: list[int],
    texts: list[str],
    undecodable: list[tuple[int, str, str]],
) -> None:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        undecodable.append(
            (
                number,
                raw.decode(encoding, errors="replace").rstrip("\r"),
                f"byte 0x{raw[exc.start]:02X} at position {exc.start + 1} is not valid {encoding}",
            )
        )
        return
    if text.strip():
        numbers.append(number)
        texts.append(text.rstrip("\r"))
