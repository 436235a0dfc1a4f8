"""Files appear complete or not at all, and are known by their SHA-256.

Deliveries, backups and snapshots are immutable once placed: they are written under a temporary
name, made durable (fsync) and renamed into place; their manifests and registries record the
SHA-256 of their bytes, hashed here in one way.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def sha256_of(path: Path) -> str:
    """The SHA-256 of the file's bytes, as hexadecimal; streamed, so a large delivery is
    hashed in flat memory."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def fsync(path: Path) -> None:
    """Make a file's bytes, or a directory's entries (a rename into it), durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def write_atomically(path: Path, *, durable: bool = True) -> Iterator[BinaryIO]:
    """Write to a temporary file beside `path`, then rename it over `path`.

    A crash or an exception while writing leaves no file at `path` (the temporary file is
    removed), so a half-written delivery can never be mistaken for a complete one. `durable`
    syncs the bytes before the rename; files that can be made again (the synthetic registers)
    skip it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "wb") as stream:
            yield stream
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
