"""One structured log line per request, the request id that ties it to masked errors, and a
log sink that lets no personal data through.

The line has the request id, tenant, operation name, status, duration and SQL statement count;
never the query's variables, nor any personal data. Every other record, of every logger, passes
`PersonalDataFilter` on its way out: an exception can quote what it was given.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
import uuid
from typing import Any, TextIO

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.database import counting_statements
from models.errors import ErrorCode

request_log = logging.getLogger("wanjia.requests")


# What may quote a caller's input, and what it becomes. Statement parameters are also kept out
# of exception text at the source (models.database: hide_parameters).
REDACTIONS = [
    # SQLAlchemy's "[parameters: ...]" and the database's own "DETAIL: Key (phone)=(...)" or
    # "Failing row contains (...)".
    (re.compile(r"\[parameters: .*"), "[parameters: (redacted)]"),
    # A GET request's URL (an access log line) carries the operation and its variables.
    (re.compile(r"([?&](?:query|variables)=)[^&\s\"']*"), r"\1(redacted)"),
    (re.compile(r"(DETAIL:|Failing row contains).*"), r"\1 (redacted)"),
    # graphql-core's coercion messages quote the value: "got invalid value {...}; ...",
    # "Int cannot represent non-integer value: 'x'", "Expected value of type 'X', found ...".
    (re.compile(r"((?:got|has) invalid value)\b.*"), r"\1 (redacted)"),
    (re.compile(r"(cannot represent [^:\n]*:).*"), r"\1 (redacted)"),
    (re.compile(r"(Expected value of type '[^'\n]*', found).*"), r"\1 (redacted)"),
    (re.compile(r"(Invalid isoformat string:).*"), r"\1 (redacted)"),
    (
        re.compile(r"""((?:password|passwd|secret|token)\w*['"]?\s*[:=]\s*)(?:'[^'\n]*'|"[^"\n]*"|\S+)""", re.I),
        r"\1(redacted)",
    ),
    (re.compile(r"\$argon2(?:id|i|d)\$[^\s'\",)\]]+"), "$argon2(redacted)"),
    (re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+"), "(token redacted)"),
    # Mainland mobile numbers and identity card numbers, masked as the API shows them.
    (
        re.compile(
            r"(?<![0-9A-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
        ),
        "(ID number redacted)",
    ),
    (re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d)\d{4}(\d{4})(?![0-9A-Za-z])"), r"\1****\2"),
]


def redact(text: str) -> str:
    return _redacted_short(text) if len(text) <= REMEMBERED_LENGTH else _substituted(text)


# Each request's log line has the same method, path, tenant and operation name as many before
# it: redacted once while they are in use, not by a dozen patterns every time (0.1 ms a line).
REMEMBERED_LENGTH = 100


@functools.lru_cache(maxsize=1024)
def _redacted_short(text: str) -> str:
    return _substituted(text)


def _substituted(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


# A structured line's values that the server makes itself and no caller gives: a request's id,
# new on every line, would otherwise pass every pattern each time (2% of a light request's time).
MADE_HERE = frozenset({"request_id"})


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: item if key in MADE_HERE else _redacted(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(item) for item in value]
    return value


class PersonalDataFilter(logging.Filter):
    """Rewrites every record that passes the sink: its message, its exception's text and its
    stack, each with personal data and quoted input redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            record.msg = _redacted(record.msg)
        else:
            record.msg = redact(record.getMessage())
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name}
        if isinstance(record.msg, dict):
            entry.update(record.msg)
        else:
            entry["message"] = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["stack"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def log_sink(stream: TextIO | None = None) -> logging.Handler:
    """Where every record of every logger is written: JSON lines, personal data redacted."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PersonalDataFilter())
    return handler


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    root.handlers[:] = [log_sink()]
    root.setLevel(level)
    # uvicorn's loggers go through the same sink (`wanjia serve` gives uvicorn no config of its own).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        with counting_statements() as statements:
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                request_log.info(
                    {
                        "event": "request",
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "tenant": state.get("tenant"),
                        "operation": state.get("operation_name"),
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "sql_statements": statements.count,
                    }
                )


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuses request bodies over the limit, whether or not they declare their length. File
    uploads (multipart) have a limit of their own; per-file limits are checked after parsing."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        is_upload = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = self.max_upload_bytes if is_upload else self.max_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "errors": [
                    {"message": f"请求体超过 {limit} 字节的上限。", "extensions": {"code": ErrorCode.PAYLOAD_TOO_LARGE}}
                ]
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
