"""Whole files that cannot be read, as landing zones sometimes receive them.

Ingestion must fail such a file's partition with a message and load nothing of it, so each
kind of damage is unmistakable: a gzip stream cut short, a file in the other encoding, or a
mandatory column missing from the header and every row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthetic.files import (
    RAW_BYTES_ERRORS,
    FileKind,
    WrittenFile,
    pack,
    unpack,
    write_landing_file,
)
from synthetic.summary import BrokenFile

BROKEN_FILE_KINDS = ("truncated_gzip", "wrong_encoding", "missing_column")
# The encoding a file is wrongly written in, and the mandatory column a file loses.
OTHER_ENCODING = {"utf-8": "cp1257", "cp1257": "utf-8"}
DROPPED_COLUMN = {"incidents": "municipality", "violations": "violation_type",
                  "seizures": "goods_category"}  # fmt: skip
# Wrong encodings alternate between a customs file in UTF-8 and an incident file in
# Windows-1257; both need letters the two encodings write differently.
WRONG_ENCODING_ORDER = ("violations", "incidents")


def _candidates(
    written: list[WrittenFile], chosen: set[str], damage: str, wrong_encodings: int
) -> list[WrittenFile]:
    open_files = [f for f in written if f.path not in chosen]
    if damage == "truncated_gzip":
        return [f for f in open_files if f.kind.compressed]
    if damage == "missing_column":
        return [f for f in open_files if f.kind.name in DROPPED_COLUMN]
    turn = wrong_encodings % len(WRONG_ENCODING_ORDER)
    for kind_name in WRONG_ENCODING_ORDER[turn:] + WRONG_ENCODING_ORDER[:turn]:
        # Only letters outside ASCII tell the encodings apart; bytes broken on purpose in
        # single lines would blur which damage the file has.
        found = [
            f for f in open_files
            if f.kind.name == kind_name and f.non_ascii and not f.defects["broken_encoding"]
        ]  # fmt: skip
        if found:
            return found
    return []


def _cut_gzip(data: bytes, rng: np.random.Generator) -> bytes:
    """Keep 30-80% of the stream: its end and the 8-byte trailer are gone."""
    return data[: max(10, int(len(data) * rng.uniform(0.3, 0.8)))]


def _drop_column(kind: FileKind, text: str) -> str:
    position = kind.columns.index(DROPPED_COLUMN[kind.name])
    lines = text.split("\n")
    kept = [";".join(f for i, f in enumerate(line.split(";")) if i != position) for line in lines]
    return "\n".join(kept)


def _break(path: Path, kind: FileKind, damage: str, rng: np.random.Generator) -> None:
    data = path.read_bytes()
    if damage == "truncated_gzip":
        write_landing_file(path, _cut_gzip(data, rng))
        return
    text = unpack(kind, data).decode(kind.encoding, RAW_BYTES_ERRORS)
    if damage == "wrong_encoding":
        raw = text.encode(OTHER_ENCODING[kind.encoding], RAW_BYTES_ERRORS)
    else:
        raw = _drop_column(kind, text).encode(kind.encoding, RAW_BYTES_ERRORS)
    write_landing_file(path, pack(kind, raw))


def break_files(
    landing_dir: Path, written: list[WrittenFile], count: int, rng: np.random.Generator
) -> list[BrokenFile]:
    """Break `count` distinct files, rotating the kinds of damage; a kind with no file left
    that it can break passes its turn to the next."""
    broken: list[BrokenFile] = []
    chosen: set[str] = set()
    wrong_encodings = 0
    for turn in range(count):
        for offset in range(len(BROKEN_FILE_KINDS)):
            damage = BROKEN_FILE_KINDS[(turn + offset) % len(BROKEN_FILE_KINDS)]
            candidates = _candidates(written, chosen, damage, wrong_encodings)
            if candidates:
                file = candidates[int(rng.integers(0, len(candidates)))]
                _break(landing_dir / file.path, file.kind, damage, rng)
                chosen.add(file.path)
                broken.append(BrokenFile(file.path, damage))
                wrong_encodings += damage == "wrong_encoding"
                break
    return broken
