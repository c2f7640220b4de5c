"""The schema revision this code reads and writes (no database library imported)."""

from __future__ import annotations

# The newest migration's revision. Checked against the migration scripts by a test; lets every
# command see that the schema is current with one small query and without loading Alembic, and
# lets the DB-API readers (ixops.fastread) refuse a store of another revision.
SCHEMA_HEAD = "i14_unhandled_events"
