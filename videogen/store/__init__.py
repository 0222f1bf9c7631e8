"""The history: every generation, its cost and its video, on SQLite or PostgreSQL.

`Store` is the one way in. `_database` opens either backend (`_sqlite`, `_postgres`) behind one
interface, `_journal` keeps accepted creates on disk until the history takes writes again, `_ratings`
holds what people think of generations (ratings, rejections, blind votes). Only the names below are
for use outside this package.
"""

from ._database import DatabaseError
from ._journal import Entry, Journal
from ._ratings import RATINGS, SHOWN, MissingGenerations, Rating, Vote
from ._store import MIGRATIONS, SCHEMA_VERSION, ChatCall, Cut, Record, Reservation, Spending, StartImage, Store, TableRow

__all__ = [
    "MIGRATIONS",
    "RATINGS",
    "SCHEMA_VERSION",
    "SHOWN",
    "ChatCall",
    "Cut",
    "DatabaseError",
    "Entry",
    "Journal",
    "MissingGenerations",
    "Rating",
    "Record",
    "Reservation",
    "Spending",
    "StartImage",
    "Store",
    "TableRow",
    "Vote",
]
