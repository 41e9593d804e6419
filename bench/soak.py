"""Serve wanjia the production way for --minutes, drive a round-robin mix of the named requests
(bench.requests) with wrk, and watch the server's resident memory: is it flat once warm?

    .venv/bin/python -m bench.soak --database wanjia_bench_soak            # 10 minutes
    .venv/bin/python -m bench.soak --minutes 3 --requests tree,mine --slice 10

The server is bench.run's (`wanjia serve`, WANJIA_ENV=production, pinned to --server-cpus, wrk to
--wrk-cpus). Each request of --requests in turn gets --slice seconds of wrk until --minutes have
passed. Every --every seconds a sampler reads VmRSS from /proc (with --workers, the sum over the
worker processes, not counting uvicorn's supervisor) and the number of requests served so far (the
`request` lines of wanjia's JSON request log; with --workers, which do not log, wrk's count at the
end of each slice). It prints the series, then a least-squares slope of
RSS over the samples after --warmup-minutes: MB per minute, and KB per 1,000 requests. The machine
is shared, so requests per minute vary with the load: the slope per request is the one to read.
The whole series is saved in var/bench/soak-*.json. Nothing asserts a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.database import BenchDatabase
from bench.requests import BY_NAME, NamedRequest, find_subjects
from bench.run import (
    RESULTS,
    ROOT,
    Options,
    Server,
    headers_for,
    make_server,
    path_and_body,
    serving,
    sign_in,
    sweep_first,
    wrk,
)

DEFAULT_MIX = ("inbox", "tree", "mine", "notifications")


@dataclass
class Sample:
    seconds: float
    requests: int
    rss_kb: int


def rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:  # a worker restarted between listing and reading
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


def served_rss_kb(pid: int, workers: int) -> int:
    """RSS of the processes that answer requests: the server itself, or with --workers its
    workers (uvicorn's supervisor only watches them; it also spawns a resource tracker, which
    does not answer and is left out by keeping the `workers` largest)."""
    if workers == 1:
        return rss_kb(pid)
    sizes = sorted((rss_kb(child) for child in children(pid)), reverse=True)
    return sum(sizes[:workers])


class RequestLog:
    """Counts the request log lines wanjia has written since the soak began."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.offset = log.stat().st_size
        self.count = 0

    def served(self) -> int:
        with self.log.open("rb") as file:
            file.seek(self.offset)
            chunk = file.read()
        complete = chunk.rfind(b"\n") + 1  # a line being written is counted next time
        self.count += chunk.count(b'"event": "request"', 0, complete)
        self.offset += complete
        return self.count


class Sampler(threading.Thread):
    def __init__(self, server: Server, workers: int, every: float) -> None:
        super().__init__(daemon=True)
        assert server.process is not None
        self.pid, self.workers, self.every = server.process.pid, workers, every
        self.requests = RequestLog(server.log)
        # Spawned workers do not log requests (logging is configured in `wanjia serve`'s own
        # process): with --workers the count is wrk's, added at the end of each slice.
        self.completed_by_wrk = 0
        self.samples: list[Sample] = []
        self.started = time.monotonic()
        self.stopping = threading.Event()

    def take(self) -> None:
        self.samples.append(
            Sample(
                time.monotonic() - self.started,
                self.requests.served() if self.workers == 1 else self.completed_by_wrk,
                served_rss_kb(self.pid, self.workers),
            )
        )

    def run(self) -> None:
        self.take()
        while not self.stopping.wait(self.every):
            self.take()

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        self.take()


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of ys over xs."""
    if len(xs) < 2:
        return None
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def report(samples: list[Sample], warmup_minutes: float, print_every: float) -> dict[str, float | None]:
    print(f"\n{'minute':>7} {'requests':>9} {'RSS MB':>8}")
    shown = -print_every
    for sample in samples:
        if sample.seconds - shown >= print_every or sample is samples[-1]:
            print(f"{sample.seconds / 60:7.2f} {sample.requests:9d} {sample.rss_kb / 1024:8.1f}")
            shown = sample.seconds
    warm = [s for s in samples if s.seconds >= warmup_minutes * 60]
    per_minute = slope([s.seconds / 60 for s in warm], [s.rss_kb / 1024 for s in warm])
    per_thousand = slope([s.requests / 1000 for s in warm], [float(s.rss_kb) for s in warm])
    figures: dict[str, float | None] = {"mb_per_minute": per_minute, "kb_per_1000_requests": per_thousand}
    if len(warm) < 2:
        print(f"\nfewer than two samples after the {warmup_minutes:g}-minute warm-up: no slope")
        return figures
    first, last = warm[0], warm[-1]
    minutes = (last.seconds - first.seconds) / 60
    print(
        f"\nafter the {warmup_minutes:g}-minute warm-up ({len(warm)} samples over {minutes:.1f} min, "
        f"{last.requests - first.requests} requests, {(last.requests - first.requests) / minutes:.0f} per minute):"
    )
    print(
        f"  RSS {first.rss_kb / 1024:.1f} → {last.rss_kb / 1024:.1f} MB (min {min(s.rss_kb for s in warm) / 1024:.1f}, "
        f"max {max(s.rss_kb for s in warm) / 1024:.1f})"
    )
    per_request = f", {per_thousand:+.1f} KB per 1,000 requests" if per_thousand is not None else ""
    print(f"  slope {per_minute:+.2f} MB/min{per_request} (least squares)")
    # A cache filling to its bound, or the allocator taking one more arena, shows as a step that
    # the least-squares line spreads over the whole window; a leak keeps climbing in the second half.
    late = warm[len(warm) // 2 :]
    late_per_thousand = slope([s.requests / 1000 for s in late], [float(s.rss_kb) for s in late])
    figures["kb_per_1000_requests_second_half"] = late_per_thousand
    if late_per_thousand is not None:
        print(
            f"  second half ({late[-1].requests - late[0].requests} requests): "
            f"{late_per_thousand:+.1f} KB per 1,000 requests"
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="wanjia_bench")
    parser.add_argument("--requests", default=",".join(DEFAULT_MIX), help="comma-separated names, round-robin")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--slice", type=float, default=15, help="seconds of wrk per request before the next")
    parser.add_argument("--every", type=float, default=5, help="seconds between samples")
    parser.add_argument("--print-every", type=float, default=30, help="seconds between printed samples")
    parser.add_argument("--warmup-minutes", type=float, default=2, help="samples left out of the slope")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="wanjia serve --workers")
    parser.add_argument("--server-cpus", default="1", help="taskset list for the server")
    parser.add_argument("--wrk-cpus", default="0", help="taskset list for wrk")
    args = parser.parse_args()

    db = BenchDatabase(args.database)
    if not db.is_loaded():
        raise SystemExit(f"no complete database {db.name}: load it first, e.g. python -m bench.load --complaints 10000")
    options = Options(
        db=db,
        secret=secrets.token_urlsafe(48),
        workers=args.workers,
        server_cpus=args.server_cpus,
        wrk_cpus=args.wrk_cpus,
        seconds=args.slice,
        warmup=0,
        connections=args.connections,
        repeats=0,
    )
    mix: list[NamedRequest] = [BY_NAME[name] for name in args.requests.split(",")]
    subjects = find_subjects(db.owner_dsn)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(
        f"database {db.name}, office {subjects.slug}; commit {commit.strip()}; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}; {args.minutes:g} min of {', '.join(r.name for r in mix)}, "
        f"{args.slice:g} s each in turn, {args.connections} connections, {args.workers} worker(s)"
    )
    sweep_first(options)
    # bench.run's wanjia lifts the rate limits: the soak measures the app, not the limiter.
    server = make_server("wanjia", options)
    failures = 0
    with serving(server, options.server_cpus):
        tokens = sign_in(server, subjects)
        sampler = Sampler(server, args.workers, args.every)
        sampler.start()
        deadline = time.monotonic() + args.minutes * 60
        turn = 0
        # wrk takes whole seconds.
        while (left := int(deadline - time.monotonic())) >= 1:
            request = mix[turn % len(mix)]
            path, body = path_and_body("wanjia", request, subjects)
            result = wrk(
                server.url + path, body, headers_for(request, subjects, tokens), min(int(args.slice), left), options
            )
            failures += result["non_2xx"] + result["socket_errors"]
            sampler.completed_by_wrk += result["requests"]
            turn += 1
        sampler.stop()
    figures = report(sampler.samples, args.warmup_minutes, args.print_every)
    if failures:
        print(f"  note: {failures} requests failed (non-2xx or socket errors); see {server.log}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    saved = RESULTS / f"soak-{stamp}.json"
    saved.write_text(
        json.dumps(
            {
                "commit": commit.strip(),
                "database": db.name,
                "load_average": os.getloadavg(),
                "options": vars(args),
                "failures": failures,
                "slopes": figures,
                "samples": [asdict(s) for s in sampler.samples],
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"series saved in {saved.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
