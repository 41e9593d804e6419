"""What signing people in needs besides the database, built once per app and handed to every
request context: whether tokens still stand, the SMS sender for phone codes, and WeChat."""

from __future__ import annotations

from dataclasses import dataclass

from models.sms import PhoneCodeSender
from models.wechat import WechatClient
from tenants.session_versions import SessionVersions


@dataclass(frozen=True)
class Identity:
    session_versions: SessionVersions
    phone_codes: PhoneCodeSender
    wechat: WechatClient

    async def close(self) -> None:
        await self.phone_codes.close()
        await self.wechat.close()
