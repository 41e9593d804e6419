"""Settings come from `WANJIA_*` environment variables, with safe defaults for local use.

Production mode (`WANJIA_ENV=production`) refuses to start without a real secret and turns off
introspection and the IDE, because those defaults only make sense on a developer's machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_SECRET = "wanjia-development-secret-do-not-use-in-production"
DEVELOPMENT_PERSONAL_DATA_KEY = "wanjia-development-personal-data-key-do-not-use-in-production"


@dataclass(frozen=True)
class Rate:
    """A token bucket: `requests` at once at most, refilled evenly over `seconds`."""

    requests: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def _rate(value: object) -> object:
    if not isinstance(value, str):
        return value
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s\s*", value)
    if match is None or int(match[1]) < 1 or float(match[2]) <= 0:
        raise ValueError(f"a rate is written like 600/60s (requests per seconds), not {value!r}")
    return Rate(int(match[1]), float(match[2]))


def _comma_separated(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


RateSetting = Annotated[Rate, NoDecode, BeforeValidator(_rate)]
CommaSeparated = Annotated[list[str], NoDecode, BeforeValidator(_comma_separated)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WANJIA_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'wanjia.db'}"
    # Migrations run as the role that owns the tables; the app connects as one that does not,
    # so row-level security binds it. Defaults to `database_url` (SQLite has no roles).
    migration_database_url: str | None = None
    database_pool_size: int = 10
    # Seconds a request waits for a pooled connection before it is answered "service unavailable".
    database_pool_timeout: float = 30.0

    secret_key: str | None = None
    # Encrypts identity card numbers at rest and keys their blind index (models.households).
    # Changing it makes every stored number unreadable: keep it with the database's backups'
    # keys, never in the database.
    personal_data_key: SecretStr | None = None
    access_token_seconds: int = 15 * 60
    # How stale a token's grounds may be: a sign-out, role change or suspension seen by another
    # process takes effect within this time, and live subscriptions re-check at this interval.
    session_recheck_seconds: float = 5.0
    refresh_token_days: int = 30

    # Per phone and client address: this many password checks, then locked for the minutes.
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    # Per phone from all addresses: each recent failure delays the next check a little more (up
    # to ten delays), and past this many failures in the window the phone is locked for everyone.
    login_account_max_failures: int = 30
    login_account_window_minutes: int = 60
    login_failure_delay_seconds: float = 0.2
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 64 * 1024
    # Threads that hash passwords, off the event loop; one street office may hold all but one.
    password_hash_threads: int = 2

    # How long the list of active street offices is cached: a suspension takes effect within it.
    tenant_cache_seconds: float = 30.0

    # Codes sent by SMS to prove a phone (registration, binding WeChat, a forgotten password).
    phone_code_minutes: int = 5
    phone_code_max_attempts: int = 5
    phone_code_resend_seconds: int = 60
    # Codes per hour, to one phone and from one client address.
    phone_code_max_per_phone: int = 5
    phone_code_max_per_client: int = 20
    # The SMS provider's HTTP endpoint (or an adapter in front of it). Without one, development
    # writes codes to the log and production refuses to send them.
    sms_http_url: str | None = None
    sms_http_token: SecretStr | None = None
    sms_timeout_seconds: float = 5.0

    # Sign in with WeChat: the platform's mini-program. A street office running its own names
    # its app id in its manifest ([settings.wechat] app_id) and its secret goes here, in
    # wechat_app_secrets ({"wx…": "…"}, JSON in the environment).
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_app_secrets: dict[str, SecretStr] = {}
    wechat_timeout_seconds: float = 5.0
    # How long a WeChat user not yet linked has to prove their phone (bindPhone).
    wechat_binding_minutes: int = 10
    # Codes WeChat calls invalid, from one client address, before that address is refused for
    # `login_lock_minutes` without asking WeChat: a stream of made-up codes would otherwise spend
    # the office's code2session quota and get its mini-program throttled for everyone.
    wechat_login_max_failures: int = 20

    # Subdomain tenancy: with base_domain "wanjia.gov.cn", host "wanqinglu.wanjia.gov.cn" names
    # tenant "wanqinglu".
    base_domain: str | None = None

    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 3000
    max_body_bytes: int = 1024 * 1024
    max_page_size: int = 100
    default_page_size: int = 20
    # The most objects one operation may return, counted before it runs (schema/cost.py).
    max_query_cost: int = 10_000

    # Token buckets: anonymous callers per client address, signed-in ones per account, and every
    # request of a street office together. Shared across processes through Redis when set.
    rate_limit_per_ip: RateSetting = Rate(1200, 60)
    rate_limit_per_account: RateSetting = Rate(600, 60)
    rate_limit_per_tenant: RateSetting = Rate(12000, 60)
    redis_url: str | None = None
    # Namespace of this deployment's keys in Redis, when several share one server.
    redis_prefix: str = "wanjia"
    # Proxies (addresses or networks) whose X-Forwarded-For is believed; nobody's by default.
    trusted_proxies: CommaSeparated = []

    # Browser origins allowed to call the API from another site, besides each street office's
    # own `allowed_origins`.
    cors_origins: CommaSeparated = []
    # Production mode that runs only operations registered with `wanjia documents register`.
    trusted_documents_only: bool = False

    upload_dir: Path = PROJECT_ROOT / "var" / "uploads"
    max_image_bytes: int = 10 * 1024 * 1024
    max_video_bytes: int = 100 * 1024 * 1024
    # Pixels of one image, all frames together, read from its header before anything decodes
    # it: a phone's photo is 12–50 million.
    max_image_pixels: int = Field(50_000_000, ge=1)
    max_attachments: int = 9
    max_upload_request_bytes: int = 300 * 1024 * 1024
    # Threads that type, check and clean uploaded files, off the event loop.
    media_workers: int = Field(2, ge=1)
    # Files sent to POST /uploads and not named by a mutation within this time are gone.
    unclaimed_upload_hours: int = Field(24, ge=1)
    # Download URLs are the same within a window of this length and valid for one to two.
    download_url_seconds: int = Field(3600, ge=60)
    # Where clients reach this server (https://api.example.gov.cn), for absolute URLs; by
    # default, the origin each request came to.
    public_url: str | None = None

    # How long a volunteer activity's check-in QR code is good for: the organiser's app shows a
    # fresh one before it runs out, so a photo of it passed around stops working soon.
    check_in_code_seconds: int = Field(120, ge=15, le=3600)
    # The page a grid worker's badge QR code opens to register (a mini-program's "普通链接二维码"
    # prefix, or an H5 page); by default `public_url` + /register.
    registration_url: str | None = None

    # How often `wanjia serve` sweeps for overdue and unconfirmed complaints.
    jobs_interval_seconds: int = 300
    # How often `wanjia serve` looks for queued exports and reports (and deletes expired files);
    # one queued through this same process starts at once.
    exports_poll_seconds: float = Field(5, gt=0)
    # How long a maintenance command (`wanjia migrate`, `jobs run`, …) waits for another run of
    # it to finish before it says so and exits 1 (models.locks).
    maintenance_lock_wait_seconds: float = Field(3.0, gt=0)

    log_level: str = "INFO"

    @model_validator(mode="after")
    def _require_secret_in_production(self) -> Settings:
        if self.secret_key is None:
            if self.env == "production":
                raise ValueError("WANJIA_SECRET_KEY must be set when WANJIA_ENV=production")
            self.secret_key = DEVELOPMENT_SECRET
        elif self.env == "production" and (len(self.secret_key) < 32 or self.secret_key == DEVELOPMENT_SECRET):
            raise ValueError(
                "WANJIA_SECRET_KEY must be at least 32 characters, and not the development one, in production"
            )
        if self.personal_data_key is None:
            if self.env == "production":
                raise ValueError("WANJIA_PERSONAL_DATA_KEY must be set when WANJIA_ENV=production")
            self.personal_data_key = SecretStr(DEVELOPMENT_PERSONAL_DATA_KEY)
        elif self.env == "production" and (
            len(key := self.personal_data_key.get_secret_value()) < 32 or key == DEVELOPMENT_PERSONAL_DATA_KEY
        ):
            raise ValueError(
                "WANJIA_PERSONAL_DATA_KEY must be at least 32 characters, and not the development one, in production"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def migration_url(self) -> str:
        return self.migration_database_url or self.database_url


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]


__all__ = ["PROJECT_ROOT", "Rate", "Settings", "load_settings"]
