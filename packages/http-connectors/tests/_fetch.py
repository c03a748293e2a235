"""One request through a connector, for the TLS, proxy and Happy Eyeballs tests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from multidict import CIMultiDict
from yarl import URL

from httpwire.connectors import BaseConnector, OutgoingRequest, RawResponse

__all__ = ["fetch", "fetch_json"]


async def fetch(
    connector: BaseConnector,
    url: str | URL,
    *,
    headers: Mapping[str, str] | None = None,
    **acquire: Any,
) -> tuple[RawResponse, bytes]:
    """GET ``url``; ``acquire`` holds ``ssl=``, ``proxy=``, ``proxy_auth=``, ``sock_connect=``."""
    request = OutgoingRequest("GET", URL(url), CIMultiDict(headers or {}), **acquire)
    conn = await connector.acquire(request)
    response = await conn.send(request)
    try:
        return response, await response.content.read()
    finally:
        response.release()


async def fetch_json(connector: BaseConnector, url: str | URL, **kwargs: Any) -> Any:
    """GET ``url`` and decode its JSON body (the status must be 200)."""
    response, body = await fetch(connector, url, **kwargs)
    assert response.status == 200, body
    return json.loads(body)
