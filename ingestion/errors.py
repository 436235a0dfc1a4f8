"""Errors that stop a whole landing file; row-level problems go to quarantine instead."""

from __future__ import annotations


class UnreadableFile(Exception):
    """A landing file that cannot be read at all: nothing of it may be loaded."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        """Pickled by its fields: the worker processes that read files send it back."""
        return UnreadableFile, (self.file, self.problem)


class InsertError(Exception):
    """A value a raw table cannot hold reached the insert (a contract rule missed it): the
    month's transaction is rolled back, and the message names the file, line and field."""

    def __init__(self, table: str, where: str, cause: Exception) -> None:
        first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else repr(cause)
        super().__init__(
            f"{table}: {where}; nothing of the month was written (database said: {first_line})"
        )
        self.table = table
        self.where = where

    def __reduce__(self) -> tuple[type, tuple[str, str, Exception]]:
        return InsertError, (self.table, self.where, Exception(str(self)))


class PartitionLoadError(Exception):
    """Some files of a partition could not be read; the readable ones were loaded."""

    def __init__(self, register: str, partition: str, failures: list[UnreadableFile]) -> None:
        listed = "; ".join(str(f) for f in failures)
        super().__init__(
            f"{register} {partition}: {len(failures)} file(s) could not be read and were not "
            f"loaded: {listed}"
        )
        self.register = register
        self.partition = partition
        self.failures = failures


class SourceDatabaseError(Exception):
    """A register database that cannot be pulled: unreachable, refusing the credentials, or
    not shaped like the register (a table or column missing, a column of the wrong type).
    The message names the database (password masked) and the problem; nothing is written."""
