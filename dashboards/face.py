"""Which face the dashboards show, chosen once when the server starts (SPEC 10).

The internal face (statisticians) reads `serving/` and offers everything. The public face
reads only the public snapshot under `serving/public/` (publication.public_snapshot), which
holds nothing that may not be public; no widget of the app can change the face, since it
comes from the server's environment: `crimestat dashboards --public` sets
CRIMESTAT_DASHBOARDS_PUBLIC=1 for the Streamlit process, and a deployment may set the
variable itself.

Any value other than empty, 0, false or no means public: a mistyped value must not open the
internal face to the public. (The command line refuses values it does not know.)
"""

from __future__ import annotations

import os
from pathlib import Path

from core.settings import load_settings

PUBLIC_SETTING = "CRIMESTAT_DASHBOARDS_PUBLIC"
PUBLIC_DIR = "public"
FILES_DIR = "files"
INTERNAL_VALUES = ("", "0", "false", "no")
PUBLIC_VALUES = ("1", "true", "yes")


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


def public_serving_dir(serving_dir: Path) -> Path:
    """Where the public snapshot, its pointer and its files live."""
    return Path(serving_dir) / PUBLIC_DIR


def serving_dir() -> Path:
    """The serving directory this server reads: the public one on the public face."""
    internal = load_settings().serving_dir
    return public_serving_dir(internal) if launched_public() else internal


def files_dir() -> Path:
    """Where downloadable release files come from: the exports directory internally, the
    public snapshot's own copies of public files on the public face."""
    if launched_public():
        return public_serving_dir(load_settings().serving_dir) / FILES_DIR
    return load_settings().exports_dir
