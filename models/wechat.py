"""Sign in with WeChat: exchanging a mini-program's `wx.login` code for the user's openid with
WeChat's code2Session (`GET {api_base}/sns/jscode2session`).

The answer also carries a session_key, which this app has no use for: it is dropped at once and
never stored or logged. The request itself carries the app secret and the code in its query
string, so httpx's own request log is kept below INFO.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
from dataclasses import dataclass
from typing import Any

import httpx

from models.settings import Settings

logger = logging.getLogger("wanjia.wechat")
# httpx logs every request's URL at INFO: here that URL holds the app secret and the code.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)


@dataclass(frozen=True)
class MiniProgram:
    app_id: str
    secret: str
    api_base: str


@dataclass(frozen=True)
class WechatUser:
    openid: str
    unionid: str | None


class WechatError(Exception):
    """WeChat did not give an openid. `reason`: invalid_code (the code is wrong, expired or used),
    rate_limited, busy (WeChat asks to retry), refused (a risky user), unavailable (no answer,
    or an answer this app cannot use, such as a wrong secret)."""

    def __init__(self, reason: str, errcode: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errcode = errcode


_REASONS = {40029: "invalid_code", 40163: "invalid_code", 45011: "rate_limited", -1: "busy", 40226: "refused"}


@functools.cache
def _verified_tls() -> ssl.SSLContext:
    # Loading the certificate authorities takes a moment: once per process, not once per client.
    return httpx.create_ssl_context()


class WechatClient:
    def __init__(self, timeout_seconds: float) -> None:
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds), verify=_verified_tls())

    async def user_of(self, program: MiniProgram, code: str) -> WechatUser:
        params = {
            "appid": program.app_id,
            "secret": program.secret,
            "js_code": code,
            "grant_type": "authorization_code",
        }
        try:
            response = await self._http.get(f"{program.api_base.rstrip('/')}/sns/jscode2session", params=params)
            # WeChat answers JSON with a text/plain content type.
            answer: Any = json.loads(response.content) if response.is_success else None
        except (httpx.HTTPError, ValueError) as error:
            logger.warning({"event": "wechat_unavailable", "app_id": program.app_id, "reason": type(error).__name__})
            raise WechatError("unavailable") from error
        if not isinstance(answer, dict):
            logger.warning({"event": "wechat_unavailable", "app_id": program.app_id, "status": response.status_code})
            raise WechatError("unavailable")
        errcode = answer.get("errcode") or 0
        openid = answer.get("openid")
        if errcode == 0 and isinstance(openid, str) and 0 < len(openid) <= 64:
            unionid = answer.get("unionid")
            return WechatUser(openid=openid, unionid=unionid if isinstance(unionid, str) and unionid else None)
        reason = _REASONS.get(errcode, "unavailable")
        if reason == "unavailable":
            # A wrong app id or secret, or something new: the operator must look, the user cannot help.
            logger.error({"event": "wechat_refused", "app_id": program.app_id, "errcode": errcode})
        raise WechatError(reason, errcode)

    async def close(self) -> None:
        await self._http.aclose()


def mini_program_for(settings: Settings, own_app_id: str | None, own_api_base: str | None) -> MiniProgram | None:
    """The street office's own mini-program if its manifest names one (its secret from
    `wechat_app_secrets`), else the platform's, else none."""
    if own_app_id:
        secret = settings.wechat_app_secrets.get(own_app_id)
        if secret is None:
            return None
        return MiniProgram(own_app_id, secret.get_secret_value(), own_api_base or settings.wechat_api_base)
    if settings.wechat_app_id and settings.wechat_app_secret:
        return MiniProgram(
            settings.wechat_app_id, settings.wechat_app_secret.get_secret_value(), settings.wechat_api_base
        )
    return None
