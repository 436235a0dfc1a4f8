"""Turning a landing file's bytes into numbered text lines.

Row-level damage (a few undecodable lines) is kept apart for quarantine, while damage to the
whole file (a cut gzip stream, the wrong encoding) raises `UnreadableFile`, so that a partition
never half-loads a file that nobody can read correctly.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

from ingestion.errors import UnreadableFile

MIN_UNDECODABLE_LINES = 3


@dataclass(frozen=True)
class DecodedLines:
    """Lines of a file by 1-based line number, and the lines that could not be decoded."""

    numbers: list[int]
    texts: list[str]
    undecodable: list[tuple[int, str, str]]  # (line number, text with replacements, problem)
    ends_with_newline: bool

    @property
    def last_line_number(self) -> int:
        candidates = [n for n, _, _ in self.undecodable] + self.numbers[-1:]
        return max(candidates, default=0)


def read_landing_bytes(path: Path, label: str) -> bytes:
    """Whole content of a landing file, gunzipped when its name ends in .gz."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(label, f"cannot be opened ({exc.strerror})") from exc
    if path.suffix != ".gz":
        return data
    try:
        return gzip.decompress(data)
    except EOFError as exc:
        raise UnreadableFile(label, "gzip stream is truncated (file cut short)") from exc
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise UnreadableFile(label, f"not a valid gzip file ({exc})") from exc


def decode_lines(
    data: bytes, encoding: str, label: str, max_undecodable_share: float
) -> DecodedLines:
    """Split into lines and decode each; too many bad lines means the file's encoding is wrong."""
    if encoding.lower() in {"cp1257", "windows-1257"}:
        _refuse_utf8_in_windows_1257(data, label)
    raw_lines = data.split(b"\n")
    ends_with_newline = raw_lines[-1] == b""
    if ends_with_newline:
        raw_lines.pop()
    numbers: list[int] = []
    texts: list[str] = []
    undecodable: list[tuple[int, str, str]] = []
    try:
        decoded_all = data.decode(encoding)
    except UnicodeDecodeError:
        decoded_all = None
    if decoded_all is not None:
        lines = decoded_all.split("\n")
        if ends_with_newline:
            lines.pop()
        for number, text in enumerate(lines, start=1):
            if text.strip():
                numbers.append(number)
                texts.append(text.rstrip("\r"))
        return DecodedLines(numbers, texts, undecodable, ends_with_newline)
    for number, raw in enumerate(raw_lines, start=1):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            undecodable.append(
                (
                    number,
                    raw.decode(encoding, errors="replace").rstrip("\r"),
                    f"byte 0x{raw[exc.start]:02X} at position {exc.start + 1} is not valid "
                    f"{encoding}",
                )
            )
            continue
        if text.strip():
            numbers.append(number)
            texts.append(text.rstrip("\r"))
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
    return DecodedLines(numbers, texts, undecodable, ends_with_newline)


def _refuse_utf8_in_windows_1257(data: bytes, label: str) -> None:
    """Windows-1257 text with national letters is practically never valid UTF-8; UTF-8 is."""
    if data.isascii():
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return
    raise UnreadableFile(
        label, "the file is encoded in UTF-8, but this register delivers Windows-1257"
    )
