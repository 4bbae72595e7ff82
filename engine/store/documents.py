"""The workflow documents runs were started on: written once per version, read to resume."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.store.db import insert_for
from engine.store.models import WorkflowDocument, utcnow

_documents = WorkflowDocument.__table__


def remember(conn: Any, workflow_id: str, content_hash: str, file: str, text: str) -> None:
    """Keep the text of a version runs start on (once; a second call changes nothing)."""
    conn.execute(
        insert_for(conn, _documents)
        .values(
            content_hash=content_hash,
            workflow_id=workflow_id,
            file=file[:255],
            text=text,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
    )


def recall(conn: Any, workflow_id: str, content_hash: str) -> tuple[str, str] | None:
    """(file, text) of a version runs started on, or None."""
    row = conn.execute(
        select(_documents.c.file, _documents.c.text).where(
            _documents.c.content_hash == content_hash, _documents.c.workflow_id == workflow_id
        )
    ).first()
    return (row.file, row.text) if row is not None else None
