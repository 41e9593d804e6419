"""Rate limits: token buckets per client address for anonymous calls, per account for signed-in
ones, and per street office for all of its requests together.

A request takes one token from each of its buckets, or none when any is empty (then it waits
for the emptiest to refill one). The buckets live in this process, or in Redis when
WANJIA_REDIS_URL is set so that every process of a deployment shares them; there one Lua
script reads, refills and takes all of a request's buckets atomically. Time is the app's clock,
passed in, so processes agree within their clocks' skew and tests move it instead of sleeping.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import redis.asyncio as redis
from redis.exceptions import RedisError

from models.settings import Rate, Settings
from tenants.directory import TenantInfo
from tenants.tokens import Viewer

logger = logging.getLogger("wanjia.ratelimit")


@dataclass(frozen=True)
class Bucket:
    key: str
    rate: Rate


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.1f} s")
        self.retry_after = retry_after

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after))


class Buckets(Protocol):
    async def take(self, buckets: Sequence[Bucket], now: float) -> float:
        """Takes a token from each bucket and answers 0, or takes none and answers the seconds
        until each has one again."""

    async def close(self) -> None: ...


class MemoryBuckets:
    """One process's buckets; the least recently used are forgotten past `max_keys` (a
    forgotten bucket is a full one, which errs towards letting a caller through)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._levels: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, buckets: Sequence[Bucket], now: float) -> float:
        levels = []
        for bucket in buckets:
            tokens, at = self._levels.get(bucket.key, (float(bucket.rate.requests), now))
            if now > at:
                tokens, at = min(bucket.rate.requests, tokens + (now - at) * bucket.rate.per_second), now
            levels.append((tokens, at))
        wait = max((_wait(bucket, tokens) for bucket, (tokens, _) in zip(buckets, levels, strict=True)), default=0.0)
        for bucket, (tokens, at) in zip(buckets, levels, strict=True):
            self._levels[bucket.key] = (tokens - 1 if wait == 0 else tokens, at)
            self._levels.move_to_end(bucket.key)
        while len(self._levels) > self.max_keys:
            self._levels.popitem(last=False)
        return wait

    async def close(self) -> None:
        return None


def _wait(bucket: Bucket, tokens: float) -> float:
    return 0.0 if tokens >= 1 else (1 - tokens) / bucket.rate.per_second


TAKE = """
local now = tonumber(ARGV[1])
local levels = {}
local wait = 0
for i, key in ipairs(KEYS) do
    local capacity, rate = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
    local state = redis.call('HMGET', key, 'tokens', 'at')
    local tokens, at = tonumber(state[1]) or capacity, tonumber(state[2]) or now
    if now > at then
        tokens, at = math.min(capacity, tokens + (now - at) * rate), now
    end
    levels[i] = {tokens, at}
    if tokens < 1 then wait = math.max(wait, (1 - tokens) / rate) end
end
for i, key in ipairs(KEYS) do
    local capacity, rate = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
    local tokens = levels[i][1]
    if wait == 0 then tokens = tokens - 1 end
    redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(levels[i][2]))
    redis.call('PEXPIRE', key, math.ceil(capacity / rate * 1000) + 1000)
end
return tostring(wait)
"""


class RedisBuckets:
    """Buckets shared by every process through Redis. If Redis cannot be reached, requests are
    let through (and that is logged, at most once a minute): a limiter must not take the API
    down with it."""

    def __init__(self, url: str, prefix: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.script = self.client.register_script(TAKE)
        self.prefix = prefix
        self._warned_at = float("-inf")

    async def take(self, buckets: Sequence[Bucket], now: float) -> float:
        keys = [f"{self.prefix}:ratelimit:{bucket.key}" for bucket in buckets]
        args = [repr(now)]
        for bucket in buckets:
            args += [str(bucket.rate.requests), repr(bucket.rate.per_second)]
        try:
            return float(await self.script(keys=keys, args=args))
        except (RedisError, OSError) as error:
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                logger.warning("rate limits not applied: Redis is unavailable (%s)", type(error).__name__)
            return 0.0

    async def close(self) -> None:
        await self.client.aclose()


class RateLimiter:
    def __init__(self, settings: Settings, buckets: Buckets, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.buckets = buckets
        self.clock = clock

    @classmethod
    def for_settings(cls, settings: Settings, clock: Callable[[], datetime]) -> RateLimiter:
        buckets: Buckets = (
            RedisBuckets(settings.redis_url, settings.redis_prefix) if settings.redis_url else MemoryBuckets()
        )
        return cls(settings, buckets, clock)

    async def check(self, *, client: str, tenant: TenantInfo | None, viewer: Viewer | None) -> None:
        """Raises RateLimited when this request is one too many."""
        if viewer is not None:
            buckets = [Bucket(f"account:{viewer.tenant_id}:{viewer.user_id}", self.settings.rate_limit_per_account)]
        else:
            buckets = [Bucket(f"ip:{client}", self.settings.rate_limit_per_ip)]
        if tenant is not None:
            buckets.append(Bucket(f"tenant:{tenant.id}", self.settings.rate_limit_per_tenant))
        wait = await self.buckets.take(buckets, self.clock().timestamp())
        if wait > 0:
            raise RateLimited(wait)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[str]) -> str:
    """The caller's address. X-Forwarded-For is believed only from a trusted proxy, and then
    read from the right: the first address that is not a trusted proxy is the client (what is
    further left the client may have written itself)."""
    if peer is None:
        return "unknown"
    networks = [ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies]
    if not forwarded_for or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


def _trusted(address: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
