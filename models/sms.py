"""Sending phone codes by SMS. Senders are pluggable: an HTTP sender for a real provider (or an
adapter in front of one), configured by settings; in development, a sender that writes the code
to the log, the only place a code ever appears; tests inject one that keeps what was sent."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import httpx

from models.people import mask_phone
from models.phone_codes import CodePurpose
from models.settings import Settings

logger = logging.getLogger("wanjia.sms")


@dataclass(frozen=True)
class CodeText:
    phone: str
    code: str
    purpose: CodePurpose
    minutes: int
    # The street office the text is from: the signature a resident recognises.
    signature: str


class SmsUnavailable(Exception):
    """The text could not be handed to the provider."""


class PhoneCodeSender(Protocol):
    async def send(self, text: CodeText) -> None: ...

    async def close(self) -> None: ...


class LoggingSender:
    """Development only: nothing is sent, the code is written to the log for the developer."""

    async def send(self, text: CodeText) -> None:
        logger.warning(
            {
                "event": "phone_code",
                "note": "development sender: nothing was sent",
                "phone": mask_phone(text.phone),
                "purpose": text.purpose.value,
                "code": text.code,
            }
        )

    async def close(self) -> None:
        return None


class HttpSender:
    """POSTs `{"phone", "template", "params": {"code", "minutes"}, "signature"}` as JSON with a
    bearer token; any 2xx is sent. Neither the code nor the body is logged."""

    def __init__(self, url: str, token: str | None, timeout_seconds: float) -> None:
        self._url = url
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds), headers=headers)

    async def send(self, text: CodeText) -> None:
        body = {
            "phone": text.phone,
            "template": text.purpose.value,
            "params": {"code": text.code, "minutes": text.minutes},
            "signature": text.signature,
        }
        try:
            response = await self._http.post(self._url, json=body)
        except httpx.HTTPError as error:
            logger.warning({"event": "sms_failed", "reason": type(error).__name__})
            raise SmsUnavailable from error
        if not response.is_success:
            logger.warning({"event": "sms_failed", "status": response.status_code})
            raise SmsUnavailable

    async def close(self) -> None:
        await self._http.aclose()


class NoSender:
    """Production without a provider: refuses, rather than pretending to send."""

    async def send(self, text: CodeText) -> None:
        raise SmsUnavailable

    async def close(self) -> None:
        return None


def sender_for(settings: Settings) -> PhoneCodeSender:
    if settings.sms_http_url:
        token = settings.sms_http_token.get_secret_value() if settings.sms_http_token else None
        return HttpSender(settings.sms_http_url, token, settings.sms_timeout_seconds)
    return NoSender() if settings.is_production else LoggingSender()
