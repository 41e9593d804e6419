"""Property-based run over every GraphQL operation: does any input make the server fail?

Serves the demo (`wanjia demo` on a fresh SQLite file, uvicorn on 127.0.0.1) and has
schemathesis generate operations from schema/schema.graphql, as an anonymous caller, a resident
and a street office admin. A response counts as a failure only when it is the server's fault: a
5xx status, a body that is not a GraphQL response, or an error coded INTERNAL_SERVER_ERROR.
Refusals in the caller's terms (validation errors, UNAUTHENTICATED, NOT_FOUND, INVALID, ...)
are what the server should answer to random input.

    .venv/bin/pip install -e '.[fuzz]'
    .venv/bin/python -m bench.fuzz_api                 # 5 cases per operation and role
    .venv/bin/python -m bench.fuzz_api --examples 20 --seed 1

Prints, per role, the cases run and the failures found (each with the operation, what failed,
with the request id to look up in the server log, and the document sent), and exits 1 if any
were found.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from models.settings import PROJECT_ROOT

SCHEMA = PROJECT_ROOT / "schema" / "schema.graphql"
TENANT = "wanqinglu"
PASSWORD = "Wanjia@2026"
ROLES = {"anonymous": None, "resident": "13800138000", "admin": "13904720001"}
HOOKS = "bench.fuzz_hooks"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wanjia(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "server.cli", *args], env=env, check=True, stdout=subprocess.DEVNULL)


def serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit(f"the server did not become ready; see {log}")


def sign_in(url: str, phone: str) -> str:
    body = httpx.post(
        url,
        json={
            "query": "mutation($i: LoginInput!) { login(input: $i) { tokens { accessToken } errors { code } } }",
            "variables": {"i": {"phone": phone, "password": PASSWORD}},
        },
        headers={"X-Tenant": TENANT},
    ).json()
    return body["data"]["login"]["tokens"]["accessToken"]


def fuzz(url: str, role: str, token: str | None, examples: int, seed: int, report: Path, env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    headers = ["-H", f"X-Tenant: {TENANT}"] + (["-H", f"Authorization: Bearer {token}"] if token else [])
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(SCHEMA),
        "--url",
        url,
        *headers,
        "--checks",
        "no_internal_error",
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--continue-on-failure",
        "--workers",
        "2",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    done = subprocess.run(command, env={**env, "SCHEMATHESIS_HOOKS": HOOKS}, capture_output=True, text=True)
    return summarise(role, report, done)


def summarise(role: str, report: Path, done: subprocess.CompletedProcess[str]) -> dict:  # type: ignore[type-arg]
    """Cases and failures from schemathesis' ndjson report (one event per line)."""
    cases, failures = 0, []
    for line in report.read_text(encoding="utf-8").splitlines() if report.exists() else []:
        scenario = json.loads(line).get("ScenarioFinished")
        if scenario is None:
            continue
        recorder = scenario["recorder"]
        cases += len(recorder.get("cases", {}))
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check.get("status", "").lower() == "failure":
                    case = recorder["cases"][case_id]["value"]
                    failures.append(
                        {
                            "operation": recorder.get("label"),
                            "message": json.dumps(check.get("failure_info") or check, ensure_ascii=False)[:400],
                            "body": str(case.get("body"))[:400],
                        }
                    )
    if cases == 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
    return {"role": role, "cases": cases, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=5, help="cases per operation and role")
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wanjia-fuzz-"))
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "WANJIA_ENV": "development",
        "WANJIA_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'wanjia.db'}",
        "WANJIA_UPLOAD_DIR": str(work / "uploads"),
        # Generous: the run is one client sending hundreds of requests a minute.
        "WANJIA_RATE_LIMIT_PER_IP": "100000/60s",
        "WANJIA_RATE_LIMIT_PER_ACCOUNT": "100000/60s",
        "WANJIA_RATE_LIMIT_PER_TENANT": "100000/60s",
    }
    print(f"demo database and logs in {work}")
    wanjia(env, "migrate")
    wanjia(env, "demo")
    server = serve(env, port, work / "server.log")
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        results = [
            fuzz(
                url,
                role,
                sign_in(url, phone) if phone else None,
                args.examples,
                args.seed,
                work / f"{role}.ndjson",
                env,
            )
            for role, phone in ROLES.items()
        ]
    finally:
        server.terminate()
        server.wait(timeout=10)
    found = 0
    for result in results:
        print(f"{result['role']:>10}: {result['cases']} cases, {len(result['failures'])} failures")
        for failure in result["failures"]:
            found += 1
            print(f"  - {failure['operation']}: {failure['message']}\n    {failure['body']}")
    print(f"server log: {work / 'server.log'}")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
