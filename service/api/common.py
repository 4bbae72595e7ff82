"""Query parameters every list shares: `limit` and `offset`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from service.paging import MAX_LIMIT

#: the largest id or version number a request may name (fits every backend's integer)
MAX_ID = 2**53
#: the largest version number (a 32-bit column)
MAX_NUMBER = 2**31 - 1

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="items to skip")]
Number = Annotated[int, Path(ge=1, le=MAX_NUMBER, description="a version number")]
RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="a run's id")]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="a token's id")]
