"""The history: every generation, its cost and its video, on SQLite or PostgreSQL.

`Store` is the one way in. `_database` opens either backend (`_sqlite`, `_postgres`) behind one
interface, `_journal` keeps accepted creates on disk until the history takes writes again. Only the
names below are for use outside this package.
"""

from ._database import DatabaseError
from ._journal import Entry, Journal
from ._store import MIGRATIONS, SCHEMA_VERSION, Record, Reservation, Spending, Store, TableRow

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "DatabaseError",
    "Entry",
    "Journal",
    "Record",
    "Reservation",
    "Spending",
    "Store",
    "TableRow",
]
