"""SQLite storage (aiosqlite): opening the database, numbered migrations, the audit log."""

from bot.storage.audit_log import AuditLog
from bot.storage.db import MEMORY, open_database
from bot.storage.migrations import MIGRATIONS, Migration, MigrationError, migrate, schema_version

__all__ = [
    "MEMORY",
    "MIGRATIONS",
    "AuditLog",
    "Migration",
    "MigrationError",
    "migrate",
    "open_database",
    "schema_version",
]
