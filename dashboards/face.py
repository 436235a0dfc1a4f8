"""Which face the dashboards show, chosen once when the server starts (SPEC 10).

The internal face (statisticians) reads `serving/` and offers everything. The public face
reads only the public snapshot under `serving/public/` (publication.public_snapshot), which
holds nothing that may not be public; no widget of the app can change the face, since it
comes from the server's environment (core.snapshot_layout: CRIMESTAT_DASHBOARDS_PUBLIC).
Either face reads nothing outside its serving directory: the snapshot and the files
published beside it.
"""

from __future__ import annotations

from pathlib import Path

from core import snapshot_layout
from core.settings import load_settings
from core.snapshot_layout import launched_public


def serving_dir() -> Path:
    """The serving directory this server reads: the public one on the public face."""
    internal = load_settings().serving_dir
    return snapshot_layout.public_serving_dir(internal) if launched_public() else internal


def files_dir() -> Path:
    """Where downloadable release files come from: the copies published beside the
    snapshots this server reads (the public face's: public files only)."""
    return snapshot_layout.files_dir(serving_dir())
