"""The store: SQLAlchemy models, Alembic migrations and how to open a database."""

from engine.store.db import Store, open_store

__all__ = ["Store", "open_store"]
