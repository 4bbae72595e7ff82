"""The store: SQLAlchemy models, Alembic migrations and how to open a database."""

from engine.store.db import Store, open_store, resolve_url

__all__ = ["Store", "open_store", "resolve_url"]
