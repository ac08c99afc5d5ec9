"""Exceptions raised by ``ade.db``.

Every message is one line that a person can act on and never contains a password, so callers
(the CLI, the API at start-up) can print ``str(error)`` as is, without a traceback.
"""

from __future__ import annotations


class DatabaseError(Exception):
    """Base class: anything ``ade.db`` reports to its callers."""


class InvalidDatabaseUrl(DatabaseError):
    """The database URL cannot be parsed or names a backend ADE does not support."""


class DatabaseUnavailable(DatabaseError):
    """The server cannot be reached, refused the credentials, or the file cannot be opened."""


class UnknownRevision(DatabaseError):
    """A revision given on the command line is not one of this code's migrations."""


class DatabaseNewerThanCode(DatabaseError):
    """The database carries a revision this version of ade-db does not know (a newer deploy)."""


class MigrationFailed(DatabaseError):
    """A migration step or schema command failed; the message says where the database is."""


class NotMigrated(DatabaseError):
    """The database is behind this code's migrations; a service must not start on it."""


class SchemaDrift(DatabaseError):
    """The models and the migrated schema differ (``ade db check``)."""
