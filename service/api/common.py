"""Query parameters every list shares: `limit` and `offset`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from service.paging import MAX_LIMIT

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Offset = Annotated[int, Query(ge=0, description="items to skip")]
