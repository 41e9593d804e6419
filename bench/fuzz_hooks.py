"""The one check of bench/fuzz_api.py: a failure is the server's fault, not a refusal."""

from __future__ import annotations

import json
from typing import Any

import schemathesis

SERVER_FAULTS = {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"}


@schemathesis.check
def no_internal_error(ctx: Any, response: Any, case: Any) -> None:
    """A 5xx, a body that is not a GraphQL response, or an error the server masked as its own."""
    request_id = response.headers.get("x-request-id", ["-"])
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code} (request {request_id})")
    try:
        body = json.loads(response.content)
    except ValueError as error:
        raise AssertionError(f"not JSON: {response.content[:200]!r}") from error
    if not isinstance(body, dict) or not ({"data", "errors"} & set(body)):
        raise AssertionError(f"not a GraphQL response: {str(body)[:200]}")
    codes = {(error.get("extensions") or {}).get("code") for error in body.get("errors") or []}
    if codes & SERVER_FAULTS:
        raise AssertionError(f"{sorted(codes & SERVER_FAULTS)} (request {request_id})")
