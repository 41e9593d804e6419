"""A stand-in for WeChat's code2Session endpoint (`GET /sns/jscode2session`), served on 127.0.0.1
for the tests: it knows some mini-programs and their secrets, hands each WeChat user a
different openid per mini-program (as WeChat does), takes each code once, and answers WeChat's
errors for codes named after them. Like WeChat, it answers JSON as text/plain."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

# Codes that make it answer one of WeChat's errors.
ERRORS = {
    "busy": {"errcode": -1, "errmsg": "system error"},
    "throttled": {"errcode": 45011, "errmsg": "api minute-quota reach limit"},
    "risky": {"errcode": 40226, "errmsg": "invalid user"},
}
SESSION_KEY = "stand-in-session-key-never-to-be-logged"


class WechatStandIn:
    def __init__(self, mini_programs: dict[str, str]) -> None:
        self.mini_programs = mini_programs
        self.calls: list[dict[str, str]] = []
        self._used: set[str] = set()
        self._serial = itertools.count(1)
        self._release = threading.Event()

    def code_for(self, wechat_user: str) -> str:
        """A fresh code as `wx.login()` would give this WeChat user."""
        return f"ok.{wechat_user}.{next(self._serial)}"

    @staticmethod
    def openid(app_id: str, wechat_user: str) -> str:
        return f"o-{app_id[-4:]}-{wechat_user}"

    async def code2session(self, request: Request) -> PlainTextResponse:
        query = dict(request.query_params)
        self.calls.append(query)
        app_id, code = query.get("appid", ""), query.get("js_code", "")
        if query.get("grant_type") != "authorization_code" or self.mini_programs.get(app_id) != query.get("secret"):
            return _answer({"errcode": 40125, "errmsg": "invalid appsecret"})
        if code == "hang":
            await asyncio.to_thread(self._release.wait, 60)
        if code in ERRORS:
            return _answer(ERRORS[code])
        if code in self._used:
            return _answer({"errcode": 40163, "errmsg": "code been used"})
        if not code.startswith("ok."):
            return _answer({"errcode": 40029, "errmsg": "invalid code"})
        self._used.add(code)
        user = code.split(".")[1]
        return _answer({"openid": self.openid(app_id, user), "session_key": SESSION_KEY, "unionid": f"u-{user}"})

    def release_hanging(self) -> None:
        self._release.set()

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/sns/jscode2session", self.code2session)])


def _answer(body: dict[str, Any]) -> PlainTextResponse:
    return PlainTextResponse(json.dumps(body))
