"""One run at a time on a home: `crimestat materialize` and `crimestat demo` hold an exclusive
file lock on `$CRIMESTAT_HOME/.run.lock` for their whole run.

A second command waits for it (printing who holds it) up to CRIMESTAT_RUN_LOCK_WAIT_SECONDS,
then gives up naming the holder: pid, command and since when. The lock is the kernel's
(`flock`), so a run that is killed releases it at once; the holder's line in the file is only
for messages.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

RUN_LOCK_NAME = ".run.lock"
_held: set[Path] = set()  # homes whose lock this process holds (a demo's materialize)


class RunLockTimeout(RuntimeError):
    """Another run held the home for longer than the wait allowed."""


def lock_holder(home: Path) -> str:
    """Who holds (or last held) the home's run lock, in words."""
    try:
        holder = json.loads((home / RUN_LOCK_NAME).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "another process (not yet named)"
    return f"pid {holder.get('pid')} ({holder.get('command')}, since {holder.get('since')})"


@contextmanager
def run_lock(
    home: Path,
    command: str,
    wait_seconds: float,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the home's run lock for the block; wait up to `wait_seconds` for another run."""
    home = home.resolve()
    if home in _held:  # taken already by this process (the demo, then its materialize)
        yield
        return
    home.mkdir(parents=True, exist_ok=True)
    path = home / RUN_LOCK_NAME
    with open(path, "a+", encoding="utf-8") as file:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunLockTimeout(
                        f"another run holds {home} (CRIMESTAT_HOME): {lock_holder(home)}; "
                        f"waited {wait_seconds:.0f} s (CRIMESTAT_RUN_LOCK_WAIT_SECONDS). Let "
                        "it finish, or stop it, then run again"
                    ) from None
                if not told and on_wait is not None:
                    on_wait(f"waiting for the run that holds {home}: {lock_holder(home)} "
                            f"(up to {wait_seconds:.0f} s)")  # fmt: skip
                    told = True
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        file.seek(0)
        file.truncate()
        file.write(json.dumps({
            "pid": os.getpid(), "command": command,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }))  # fmt: skip
        file.flush()
        _held.add(home)
        try:
            yield
        finally:
            _held.discard(home)
            file.seek(0)
            file.truncate()
            file.flush()
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
