"""Where the serving snapshots live and how their pointer reads: shared by the writer
(publication.serving, publication.public_snapshot) and the reader (the dashboards), which
must agree on it and may not import each other.

A serving directory (`serving/` for the internal face, `serving/public/` for the public one)
holds:

- `snapshots/snapshot-<UTC time>.duckdb`: the snapshots, each complete once it has its name;
- `current.json`: the pointer, `{"snapshot": "snapshots/<name>", "published_at": ISO time,
  "tables": [schema.table, ...]}`, replaced atomically by each publication;
- `files/`: the downloadable files the snapshot lists (`serving.export_files`), copied there
  by the publication, so a face reads no file outside its serving directory.

Which serving directory a dashboards server reads is its face, fixed when the server starts
by CRIMESTAT_DASHBOARDS_PUBLIC (`crimestat dashboards --public` sets it for the Streamlit
process, and a deployment may set it itself). Any value other than empty, 0, false or no
means public: a mistyped value must not open the internal face to the public. (The command
line refuses values it does not know: `setting_value`.)
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

POINTER_FILE = "current.json"
SNAPSHOT_DIR = "snapshots"
FILES_DIR = "files"
PUBLIC_DIR = "public"
PUBLIC_SETTING = "CRIMESTAT_DASHBOARDS_PUBLIC"
INTERNAL_VALUES = ("", "0", "false", "no")
PUBLIC_VALUES = ("1", "true", "yes")


def public_serving_dir(serving_dir: Path) -> Path:
    """Where the public snapshot, its pointer and its files live."""
    return Path(serving_dir) / PUBLIC_DIR


def files_dir(serving_dir: Path) -> Path:
    """Where the files listed by the snapshots of `serving_dir` are offered from."""
    return Path(serving_dir) / FILES_DIR


def pointer_text(
    serving_dir: Path, snapshot: Path, published_at: datetime, tables: list[str]
) -> str:
    """The content of the pointer naming `snapshot` (a file under `serving_dir`)."""
    content = {
        "snapshot": snapshot.relative_to(serving_dir).as_posix(),
        "published_at": published_at.isoformat(),
        "tables": tables,
    }
    return json.dumps(content, indent=2)


def pointed_name(serving_dir: Path) -> str | None:
    """The name the pointer gives (relative to `serving_dir`), or None before the first
    publication. An unreadable pointer raises (OSError, ValueError, KeyError, TypeError)."""
    try:
        text = (Path(serving_dir) / POINTER_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return str(json.loads(text)["snapshot"])


def current_snapshot(serving_dir: Path) -> Path | None:
    """The snapshot the pointer names, or None before the first publication."""
    name = pointed_name(serving_dir)
    return None if name is None else Path(serving_dir) / name


def launched_public() -> bool:
    """True when this server shows the public face."""
    return os.environ.get(PUBLIC_SETTING, "").strip().lower() not in INTERNAL_VALUES


def setting_value(value: str) -> bool:
    """The setting's meaning, for the command line, which refuses unknown values."""
    normalised = value.strip().lower()
    if normalised in PUBLIC_VALUES:
        return True
    if normalised in INTERNAL_VALUES:
        return False
    raise ValueError(
        f"{PUBLIC_SETTING} must be 1, true or yes (public face) or 0, false, no or empty, "
        f"got {value!r}"
    )
