"""Requests per second for a list of up to 50 residents with two nested objects each, over real
HTTP against one uvicorn process on this machine. Prints figures; asserts nothing.

    .venv/bin/python bench/list_query.py [--seconds 10] [--concurrency 8] [--url http://127.0.0.1:8000]

Without --url it starts its own server on the database in WANJIA_DATABASE_URL (default: the
embedded demo database; run `make run` once first). For PostgreSQL, load the demo there
(`wanjia migrate && wanjia demo`) and let autovacuum analyze it, or run ANALYZE, first.

Measured here (2 cores, 42 items, concurrency 8): SQLite 38 req/s before the validation cache
worked and to-one relations were joined into the list query, 100 after; PostgreSQL 15 req/s
with single-column foreign-key indexes and fresh statistics, 115 with tenant-leading indexes,
145 once analyzed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time

import httpx

QUERY = """{ residentsAwaitingReview(first: 50) { edges { node { id name phone room
  building { name } grid { name } } } } }"""
LOGIN = 'mutation { login(input: {phone: "13904720001", password: "Wanjia@2026"}) { tokens { accessToken } } }'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def hammer(url: str, seconds: float, concurrency: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        login = await client.post("/graphql", json={"query": LOGIN}, headers={"X-Tenant": "wanqinglu"})
        token = login.json()["data"]["login"]["tokens"]["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        first = (await client.post("/graphql", json={"query": QUERY}, headers=headers)).json()
        items = len(first["data"]["residentsAwaitingReview"]["edges"])
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    print(f"items per response: {items}")
    print(
        f"requests: {len(latencies)} in {elapsed:.1f}s -> {len(latencies) / elapsed:.1f} req/s (concurrency {concurrency})"
    )
    print(
        f"latency ms: p50 {1000 * statistics.median(latencies):.1f}  p95 {1000 * latencies[int(0.95 * len(latencies))]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.url:
        asyncio.run(hammer(args.url, args.seconds, args.concurrency))
        return
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "server.app:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={**os.environ, "WANJIA_LOG_LEVEL": "WARNING"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        asyncio.run(hammer(url, args.seconds, args.concurrency))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
