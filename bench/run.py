"""Serve wanjia the production way and drive the named requests (bench.requests) with wrk; the
same against PostGraphile v4 over the same database and against the bound (bench.bound).

    .venv/bin/python -m bench.run                  # after python -m bench.load
    .venv/bin/python -m bench.run --requests inbox,tree --seconds 30
    .venv/bin/python -m bench.run --explain         # EXPLAIN (ANALYZE, BUFFERS) of wanjia's SQL

Each server in turn, alone: `wanjia serve` (WANJIA_ENV=production, the app role, one worker
unless --workers), `node bench/postgraphile/server.js`, `uvicorn bench.bound:create_app`.
The server is pinned to one core (--server-cpus, default 1) and wrk to the other (--wrk-cpus,
default 0), so the load generator does not take the server's CPU; PostgreSQL is not pinned (it
serves other databases too) and shares the cores with both. For each request: one call to check
the answer (wanjia's has no errors; the bound's JSON equals wanjia's; PostGraphile's rows are
wanjia's rows), a few calls through a counting proxy (SQL statements on the wire), a warm-up,
then wrk for --seconds with --connections.

Columns: req/s (wrk's completed requests per second), p50/p99 (wrk's latency percentiles, ms),
SQL (statements per request: wanjia's own count from its JSON request log, `sql_statements`,
then the count on the wire, which also sees BEGIN/COMMIT and pool pings), and the ratios of
wanjia's req/s to PostGraphile's and to the bound's. Nothing asserts a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.database import ADMIN_URL, APP_ROLE, BenchDatabase
from bench.offices import DEMO_PASSWORD
from bench.requests import BY_NAME, REQUESTS, NamedRequest, Subjects, find_subjects
from bench.wire import StatementCounter

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = ROOT / "bench" / "wrk" / "post.lua"
RESULTS = ROOT / "var" / "bench"
SERVERS = ("wanjia", "postgraphile", "bound")
LOGIN = """mutation Login($phone: String!, $password: String!) { login(input: {phone: $phone, password: $password}) {
  tokens { accessToken } errors { code message } } }"""


@dataclass
class Options:
    db: BenchDatabase
    secret: str
    workers: int
    server_cpus: str
    wrk_cpus: str
    seconds: float
    warmup: float
    connections: int
    repeats: int


# --- servers -------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log: Path
    ready: Callable[[httpx.Client], bool]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, cpus: str) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["taskset", "-c", cpus, *self.argv],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 180
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise SystemExit(f"{self.name} exited with {self.process.returncode}; see {self.log}")
                try:
                    if self.ready(client):
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)  # polling the port: the server says nothing else when it is ready
        raise SystemExit(f"{self.name} did not become ready in 3 minutes; see {self.log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def serving(server: Server, cpus: str) -> Iterator[Server]:
    try:
        server.start(cpus)
        yield server
    finally:
        server.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _through(url: str, port: int | None) -> str:
    """The database URL, or the same through the counting proxy listening on `port`."""
    if port is None:
        return url
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def sweep_first(options: Options) -> None:
    """The sweep `wanjia serve` runs at start, done before it: it finds nothing to do while timed."""
    subprocess.run(
        [str(BIN / "wanjia"), "jobs", "run"],
        env={
            **os.environ,
            "WANJIA_ENV": "production",
            "WANJIA_SECRET_KEY": options.secret,
            "WANJIA_PERSONAL_DATA_KEY": options.secret,
            "WANJIA_DATABASE_URL": options.db.app_url,
        },
        check=True,
    )


def wanjia_server(options: Options, proxy_port: int | None = None) -> Server:
    return Server(
        name="wanjia",
        argv=[
            str(BIN / "wanjia"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--workers",
            str(options.workers),
        ],
        env={
            "WANJIA_ENV": "production",
            "WANJIA_SECRET_KEY": options.secret,
            "WANJIA_PERSONAL_DATA_KEY": options.secret,
            "WANJIA_DATABASE_URL": _through(options.db.app_url, proxy_port),
            "WANJIA_LOG_LEVEL": "INFO",
            # Long enough for a whole run; a token's lifetime costs nothing per request.
            "WANJIA_ACCESS_TOKEN_SECONDS": "14400",
            # One account from one address, for minutes: past the production rate limits (600 a
            # minute per account, 1,200 per address) wanjia would answer 429 without running the
            # request, and the bench would measure the limiter.
            **{f"WANJIA_RATE_LIMIT_PER_{key}": "100000000/60s" for key in ("IP", "ACCOUNT", "TENANT")},
        },
        port=0,
        log=RESULTS / "wanjia.log",
        ready=lambda client: client.get("/readyz").status_code == 200,
    )


def postgraphile_server(options: Options, proxy_port: int | None = None) -> Server:
    return Server(
        name="postgraphile",
        argv=["node", str(ROOT / "bench" / "postgraphile" / "server.js")],
        env={
            "DATABASE_URL": _through(options.db.app_dsn, proxy_port),
            "WANJIA_SECRET_KEY": options.secret,
            "WANJIA_PERSONAL_DATA_KEY": options.secret,
            "PORT": "{port}",
            "NODE_ENV": "production",
        },
        port=0,
        log=RESULTS / "postgraphile.log",
        ready=lambda client: client.post("/graphql", json={"query": "{ __typename }"}).status_code == 200,
    )


def bound_server(options: Options, proxy_port: int | None = None) -> Server:
    return Server(
        name="bound",
        argv=[
            *(str(BIN / "uvicorn"), "bench.bound:create_app", "--factory", "--host", "127.0.0.1", "--port", "{port}"),
            *("--log-level", "warning", "--no-access-log"),
        ],
        env={"WANJIA_DATABASE_URL": _through(options.db.app_dsn, proxy_port), "WANJIA_SECRET_KEY": options.secret},
        port=0,
        log=RESULTS / "bound.log",
        ready=lambda client: client.post("/tree", headers={"X-Tenant": "-"}).status_code == 404,
    )


MAKERS = {"wanjia": wanjia_server, "postgraphile": postgraphile_server, "bound": bound_server}


def make_server(name: str, options: Options, proxy_port: int | None = None) -> Server:
    server = MAKERS[name](options, proxy_port)
    server.port = _free_port()
    server.argv = [a.replace("{port}", str(server.port)) for a in server.argv]
    server.env = {k: v.replace("{port}", str(server.port)) for k, v in server.env.items()}
    return server


# --- what each server is asked --------------------------------------------------------------------


def path_and_body(server: str, request: NamedRequest, subjects: Subjects) -> tuple[str, dict[str, Any]]:
    if server == "wanjia":
        return "/graphql", request.wanjia.body(subjects)
    if server == "postgraphile":
        return "/graphql", request.postgraphile.body(subjects)
    return f"/{request.name}", {"variables": request.bound_variables(subjects)}


def headers_for(request: NamedRequest, subjects: Subjects, tokens: dict[str, str]) -> dict[str, str]:
    if request.role == "anonymous":
        return {"X-Tenant": subjects.slug}
    return {"Authorization": f"Bearer {tokens[request.role]}"}


def sign_in(server: Server, subjects: Subjects) -> dict[str, str]:
    tokens = {}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for role in ("grid_worker", "tenant_admin", "resident"):
            person = subjects.person(role)
            assert person is not None
            answer = client.post(
                "/graphql",
                json={"query": LOGIN, "variables": {"phone": person.phone, "password": DEMO_PASSWORD}},
                headers={"X-Tenant": subjects.slug},
            ).json()
            login = answer["data"]["login"]
            if login["errors"]:
                raise SystemExit(f"signing in as {role} ({person.phone}) failed: {login['errors']}")
            tokens[role] = login["tokens"]["accessToken"]
    return tokens


def ask(client: httpx.Client, server: str, request: NamedRequest, subjects: Subjects, tokens: dict[str, str]) -> Any:
    path, body = path_and_body(server, request, subjects)
    response = client.post(path, json=body, headers=headers_for(request, subjects, tokens))
    response.raise_for_status()
    return response.json()


def check(server: str, request: NamedRequest, answer: Any, reference: Any) -> str:
    """How the answer compares with wanjia's (`reference`): a short verdict for the table."""
    if "errors" in answer:
        return f"errors: {json.dumps(answer['errors'], ensure_ascii=False)[:300]}"
    if server == "wanjia":
        rows = request.wanjia_rows(answer["data"])
        return "ok" if rows else "EMPTY"
    if reference is None:
        return "no wanjia answer to compare"
    if server == "bound":  # wanjia's extensions (the query's cost) are not the bound's to know
        same = answer["data"] == reference["data"]
        return "same data" if same else f"DIFFERS at {_first_difference(answer['data'], reference['data'])}"
    same = request.postgraphile_rows(answer["data"]) == request.wanjia_rows(reference["data"])
    return "same rows" if same else "DIFFERENT ROWS"


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} (length {len(a)} against {len(b)})"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {json.dumps(a, ensure_ascii=False)[:80]} against {json.dumps(b, ensure_ascii=False)[:80]}"


# --- CPU per request ---------------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of a live process so far (0 if it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        found.append(current := pending.pop())
        pending.extend(children.get(current, []))
    return found


@dataclass
class CpuSample:
    """CPU used so far by the server under test (every process of it) and by each of the
    database's backends. PostgreSQL runs on this machine, so its backends are processes here."""

    server: float
    backends: dict[int, float]

    @classmethod
    def take(cls, server: Server, db: BenchDatabase, admin: psycopg.Connection) -> CpuSample:
        assert server.process is not None
        pids = [
            pid
            for (pid,) in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' "
                "AND pid <> pg_backend_pid()",
                (db.name,),
            )
        ]
        return cls(
            sum(_cpu_seconds(pid) for pid in _descendants(server.process.pid)), {pid: _cpu_seconds(pid) for pid in pids}
        )

    def since(self, before: CpuSample) -> tuple[float, float]:
        """Server and database CPU seconds between the two samples."""
        database = sum(seconds - before.backends.get(pid, 0.0) for pid, seconds in self.backends.items())
        return self.server - before.server, database


# --- wrk -----------------------------------------------------------------------------------------


def wrk(url: str, body: dict[str, Any], headers: dict[str, str], seconds: float, options: Options) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        body_file, headers_file = Path(scratch, "body.json"), Path(scratch, "headers")
        body_file.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        headers_file.write_text("".join(f"{k}: {v}\n" for k, v in headers.items()), encoding="utf-8")
        done = subprocess.run(
            [
                *("taskset", "-c", options.wrk_cpus, "wrk", "-t1", f"-c{options.connections}", f"-d{seconds:g}s"),
                *("--timeout", "30s", "-s", str(LUA), url),
            ],
            env={**os.environ, "WRK_BODY_FILE": str(body_file), "WRK_HEADERS_FILE": str(headers_file)},
            capture_output=True,
            text=True,
            check=True,
        )
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    summary["rps"] = summary["requests"] / (summary["microseconds"] / 1e6)
    return summary


def logged_statements(log: Path, offset: int) -> list[int]:
    """sql_statements of wanjia's request log lines written after `offset`."""
    counts = []
    with log.open("rb") as file:
        file.seek(offset)
        for line in file:
            if b'"event": "request"' in line and b'"path": "/graphql"' in line:
                counts.append(json.loads(line)["sql_statements"])
    return counts


# --- one server, every request ---------------------------------------------------------------------


@dataclass
class Figures:
    verdict: str = ""
    wire_statements: float | None = None
    app_statements: float | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    # CPU milliseconds per request completed in the timed run: the server's and PostgreSQL's.
    server_cpu_ms: float | None = None
    database_cpu_ms: float | None = None
    failures: int = 0


def measure(
    name: str,
    requests: list[NamedRequest],
    subjects: Subjects,
    tokens: dict[str, str],
    options: Options,
    references: dict[str, Any],
) -> dict[str, Figures]:
    figures = {request.name: Figures() for request in requests}
    upstream = make_url(ADMIN_URL)
    with StatementCounter(upstream.host or "127.0.0.1", upstream.port or 5432) as counter:
        server = make_server(name, options, proxy_port=counter.port)
        with serving(server, options.server_cpus), httpx.Client(base_url=server.url, timeout=60) as client:
            for request in requests:
                answer = ask(client, name, request, subjects, tokens)
                if name == "wanjia":
                    references[request.name] = answer
                figures[request.name].verdict = check(name, request, answer, references.get(request.name))
                counter.count = 0
                for _ in range(options.repeats):
                    ask(client, name, request, subjects, tokens)
                figures[request.name].wire_statements = counter.count / options.repeats
    server = make_server(name, options)
    with serving(server, options.server_cpus), psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        for request in requests:
            path, body = path_and_body(name, request, subjects)
            headers = headers_for(request, subjects, tokens)
            if options.warmup:
                wrk(server.url + path, body, headers, options.warmup, options)
                settle(options.db)
            offset = server.log.stat().st_size
            before = CpuSample.take(server, options.db, admin)
            result = wrk(server.url + path, body, headers, options.seconds, options)
            server_cpu, database_cpu = CpuSample.take(server, options.db, admin).since(before)
            settle(options.db)
            f = figures[request.name]
            f.rps, f.p50_ms, f.p99_ms = result["rps"], result["p50"] / 1000, result["p99"] / 1000
            f.failures = result["non_2xx"] + result["socket_errors"]
            if result["requests"]:
                f.server_cpu_ms = server_cpu * 1000 / result["requests"]
                f.database_cpu_ms = database_cpu * 1000 / result["requests"]
            if name == "wanjia":
                counts = logged_statements(server.log, offset)
                f.app_statements = statistics.mean(counts) if counts else None
            cpu = (
                f"  CPU/req {f.server_cpu_ms:5.2f} + {f.database_cpu_ms:5.2f} ms"
                if f.server_cpu_ms is not None and f.database_cpu_ms is not None
                else ""
            )
            print(
                f"  {name:<12} {request.label:<34} {f.rps:8.1f} req/s  p50 {f.p50_ms:8.1f} ms  p99 {f.p99_ms:8.1f} ms"
                f"{cpu}  {f.verdict}" + (f"  FAILED {f.failures}" if f.failures else ""),
                flush=True,
            )
    return figures


SETTLE_SECONDS = 60


def settle(db: BenchDatabase) -> None:
    """Cancels the statements a run left running and waits until they have stopped. wrk stops
    waiting at the end of its run, but PostgreSQL goes on with what it was asked: at 12M
    complaints PostGraphile's counts (7.5 s each) and search ran on into the next requests'
    runs and slowed them several times over."""
    running = (
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND usename = %s AND state = 'active' "
        "AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + SETTLE_SECONDS
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        while pids := [pid for (pid,) in admin.execute(running, (db.name, APP_ROLE))]:
            if time.monotonic() > deadline:
                raise SystemExit(f"statements still running {SETTLE_SECONDS} s after the run: {pids}")
            admin.execute("SELECT pg_cancel_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
            time.sleep(0.05)  # polling pg_stat_activity: a cancelled backend signals nothing else


def print_table(results: dict[str, dict[str, Figures]], requests: list[NamedRequest]) -> None:
    def cell(f: Figures | None) -> str:
        if f is None or f.rps is None:
            return f"{'':>8} {'':>8} {'':>8}"
        return f"{f.rps:8.1f} {f.p50_ms:8.1f} {f.p99_ms:8.1f}"

    def ratio(a: Figures | None, b: Figures | None) -> str:
        return f"{a.rps / b.rps:6.2f}" if a and b and a.rps and b.rps else f"{'':>6}"

    def statements(f: Figures | None) -> str:
        if f is None or f.wire_statements is None:
            return f"{'':>9}"
        app = f"{f.app_statements:.0f}/" if f.app_statements is not None else ""
        return f"{app}{f.wire_statements:.0f}".rjust(9)

    print()
    print(f"{'':34} {'wanjia':^36} {'PostGraphile v4':^36} {'bound (one SQL)':^36} {'wanjia /':^13}")
    head = f"{'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'SQL':>9}"
    print(f"{'request':34} {head} {head} {head} {'PG':>6} {'bound':>6}")
    for request in requests:
        w, p, b = (results.get(server, {}).get(request.name) for server in SERVERS)
        print(
            f"{request.label:34} {cell(w)} {statements(w)} {cell(p)} {statements(p)} {cell(b)} {statements(b)}"
            f" {ratio(w, p)} {ratio(w, b)}"
        )
    print()
    for server in SERVERS:
        for request in requests:
            f = results.get(server, {}).get(request.name)
            if f and (f.verdict not in ("ok", "same data", "same rows") or f.failures):
                print(
                    f"  note: {server} / {request.name}: {f.verdict}" + (f", {f.failures} failed" if f.failures else "")
                )


# --- EXPLAIN of what wanjia sends -------------------------------------------------------------------

EXPLAIN_WARMUP = 9
EXPLAIN_SETTINGS = {
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on",
    "auto_explain.log_timing": "on",
}


def explain(
    requests: list[NamedRequest], subjects: Subjects, tokens: dict[str, str], options: Options, log: Path
) -> None:
    """Every statement wanjia sends for each request, with its plan as executed (auto_explain,
    for the app role in the benchmark database only, reset afterwards)."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        target = sql.SQL("ALTER ROLE {} IN DATABASE {}").format(
            sql.Identifier(APP_ROLE), sql.Identifier(options.db.name)
        )
        try:
            for name, value in EXPLAIN_SETTINGS.items():
                admin.execute(
                    target + sql.SQL(" SET {} = {}").format(sql.Identifier(*name.split(".")), sql.Literal(value))
                )
            plans: list[tuple[float, str, str]] = []
            server = make_server("wanjia", options)
            with serving(server, options.server_cpus), httpx.Client(base_url=server.url, timeout=60) as client:
                for request in requests:
                    # The last of several calls: psycopg prepares a statement on its fifth run, and
                    # PostgreSQL may then plan it generically; that plan is the one that lasts.
                    for _ in range(EXPLAIN_WARMUP):
                        ask(client, "wanjia", request, subjects, tokens)
                    offset = log.stat().st_size
                    # auto_explain writes at the end of each statement, before its result is sent.
                    ask(client, "wanjia", request, subjects, tokens)
                    for duration, text in _logged_plans(log, offset):
                        plans.append((duration, request.label, text))
        finally:
            admin.execute(target + sql.SQL(" RESET ALL"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = RESULTS / "explain.txt"
    plans.sort(key=lambda p: -p[0])
    with report.open("w", encoding="utf-8") as out:
        for duration, label, text in plans:
            out.write(f"=== {label}: {duration:.1f} ms\n{text}\n\n")
    print(f"\nslowest statements wanjia sends (all plans in {report}):")
    for duration, label, text in plans[:2]:
        print(f"\n=== {label}: {duration:.1f} ms\n{text}")


LOG_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def _logged_plans(log: Path, offset: int) -> list[tuple[float, str]]:
    with log.open("rb") as file:
        file.seek(offset)
        text = file.read().decode("utf-8", "replace")
    entries, current = [], []
    for line in text.splitlines():
        if LOG_ENTRY.match(line):
            if current:
                entries.append("\n".join(current))
            current = [line]
        elif current:
            current.append(line)
    if current:
        entries.append("\n".join(current))
    found = []
    for entry in entries:
        match = re.search(r"duration: ([\d.]+) ms\s+plan:", entry)
        if match and f"{APP_ROLE}@" in entry.split("\n", 1)[0]:
            found.append((float(match.group(1)), entry.split("plan:", 1)[1].strip("\n")))
    return found


def postgres_log() -> Path:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        current = admin.execute("SELECT pg_current_logfile()").fetchone()[0]
        directory = admin.execute("SHOW data_directory").fetchone()[0]
        version = admin.execute("SHOW server_version_num").fetchone()[0][:2]
    if current:
        return Path(directory, current)
    return Path(f"/var/log/postgresql/postgresql-{version}-main.log")


# --- main --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="wanjia_bench")
    parser.add_argument("--requests", default=",".join(r.name for r in REQUESTS), help="comma-separated names")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated: wanjia, postgraphile, bound")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3, help="seconds of wrk before each timed run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="wanjia serve --workers")
    parser.add_argument("--server-cpus", default="1", help="taskset list for the server under test")
    parser.add_argument("--wrk-cpus", default="0", help="taskset list for wrk")
    parser.add_argument("--repeats", type=int, default=5, help="calls per request when counting statements")
    parser.add_argument("--explain", action="store_true", help="log wanjia's statements with their plans instead")
    args = parser.parse_args()

    db = BenchDatabase(args.database)
    if not db.is_loaded():
        raise SystemExit(
            f"no complete database {db.name}: load it first, e.g. python -m bench.load --complaints 1000000"
        )
    options = Options(
        db=db,
        secret=secrets.token_urlsafe(48),
        workers=args.workers,
        server_cpus=args.server_cpus,
        wrk_cpus=args.wrk_cpus,
        seconds=args.seconds,
        warmup=args.warmup,
        connections=args.connections,
        repeats=args.repeats,
    )
    requests = [BY_NAME[name] for name in args.requests.split(",")]
    servers = [name for name in args.servers.split(",") if name]
    subjects = find_subjects(db.owner_dsn)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(
        f"database {db.name}, office {subjects.slug}; commit {commit.strip()}; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}; {args.seconds:g} s × {args.connections} connections per request"
    )
    sweep_first(options)
    with serving(make_server("wanjia", options), options.server_cpus) as server:
        tokens = sign_in(server, subjects)
    if args.explain:
        explain(requests, subjects, tokens, options, postgres_log())
        return

    references: dict[str, Any] = {}
    results: dict[str, dict[str, Figures]] = {}
    for name in servers:
        results[name] = measure(name, requests, subjects, tokens, options, references)
    print_table(results, requests)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    saved = RESULTS / f"results-{stamp}.json"
    saved.write_text(
        json.dumps(
            {
                "commit": commit.strip(),
                "database": db.name,
                "load_average": os.getloadavg(),
                "options": vars(args),
                "results": {s: {r: vars(f) for r, f in figures.items()} for s, figures in results.items()},
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"figures saved in {saved.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
