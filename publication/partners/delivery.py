"""Delivery adapters: how a finished package reaches its partner.

A partner's configuration names its adapter (`delivery: {adapter: outbox}`). The outbox
adapter places the package in `<outbox>/<PARTNER>/`, which a transfer job or the partner's
own pick-up reads. SPEC 9 names SFTP as the production adapter; it is not built here, and a
configuration asking for an adapter that does not exist is refused when it is loaded.

A delivered package is never overwritten: a revision is a new package with a new number
(and so a new file name), and delivering a name that exists already is an error.

Packages in the outbox have the deployment's CRIMESTAT_OUTBOX_FILE_MODE (0600, owner only, by
default), their folders the matching directory mode (0700).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from core.settings import DEFAULT_OUTBOX_FILE_MODE, directory_mode


class DeliveryError(RuntimeError):
    """A package could not be delivered; the message names the package and the place."""


class DeliveryAdapter(Protocol):
    name: str

    def deliver(self, package_path: Path, partner: str) -> str:
        """Deliver the file at `package_path` to `partner`; return where it went."""
        ...


class OutboxDelivery:
    """The default adapter: `<outbox_dir>/<PARTNER>/<package file name>`."""

    name = "outbox"

    def __init__(self, outbox_dir: Path, file_mode: int = DEFAULT_OUTBOX_FILE_MODE) -> None:
        self.outbox_dir = Path(outbox_dir)
        self.file_mode = file_mode

    def placed_paths(self, package_path: Path, partner: str) -> list[Path]:
        """The package's place, then the hidden temporary name `deliver` copies to first
        (recorded in the publication intent before delivering: publication.intents)."""
        folder = self.outbox_dir / partner
        return [folder / package_path.name, folder / f".{package_path.name}.partial"]

    def deliver(self, package_path: Path, partner: str) -> str:
        """Copy beside the target under a hidden name, flush it, then link it into place:
        the package appears complete or not at all, and a link never replaces a file that
        is already there (the check and the placement are one step)."""
        folder = self.outbox_dir / partner
        folder.mkdir(parents=True, exist_ok=True)
        for directory in (self.outbox_dir, folder):
            directory.chmod(directory_mode(self.file_mode))
        target = folder / package_path.name
        partial = folder / f".{package_path.name}.partial"
        try:
            with open(package_path, "rb") as source, open(partial, "wb") as copy:
                shutil.copyfileobj(source, copy)
                os.fchmod(copy.fileno(), self.file_mode)  # the link shares it
                copy.flush()
                os.fsync(copy.fileno())
            try:
                os.link(partial, target)
            except FileExistsError:
                raise DeliveryError(
                    f"{target} exists already: a delivered package is never overwritten"
                ) from None
        finally:
            partial.unlink(missing_ok=True)
        return str(target)


ADAPTERS: dict[str, Callable[[Path, int], DeliveryAdapter]] = {"outbox": OutboxDelivery}


def delivery_adapter(
    name: str, outbox_dir: Path, file_mode: int = DEFAULT_OUTBOX_FILE_MODE
) -> DeliveryAdapter:
    """The adapter called `name` (as a partner's configuration names it); `file_mode`: the
    permission bits of what it delivers (CRIMESTAT_OUTBOX_FILE_MODE)."""
    try:
        return ADAPTERS[name](outbox_dir, file_mode)
    except KeyError:
        raise DeliveryError(
            f"delivery adapter {name!r} does not exist (known: {', '.join(ADAPTERS)})"
        ) from None
