"""Stored files and their rows stay in step: a failed write leaves nothing, a rolled-back step
takes its files with it, `wanjia media sweep` removes what no row names (never a file younger
than its grace age), and `/readyz` says when files cannot be written."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from models.settings import PROJECT_ROOT, Settings
from server.app import create_app
from tests.conftest import WORKER_1, Wanjia, settings_for
from tests.media_files import photo
from tests.provision import ProvisionedDatabase
from tests.support import TEXTS, Api, Clock, TenantHandle

SUBMIT = """mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) {
  complaint { id attachments { url } } errors { field code message } } }"""


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")}


def test_a_write_cut_short_by_a_full_disk_leaves_no_partial_file(tmp_path: Path) -> None:
    # A real failing write: the file size limit makes write() fail past 1 KB, as a full disk does.
    script = """
import resource, signal, sys
from pathlib import Path
from models.storage import LocalDirectoryStorage
storage = LocalDirectoryStorage(Path(sys.argv[1]))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1024, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    storage.save("tenant/2026/11/photo.jpg", bytes(64 * 1024))
except OSError as error:
    print(error.errno)
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == str(errno.EFBIG)
    assert files_under(tmp_path) == set()


async def test_a_step_refused_after_its_files_were_written_takes_them_away(
    api: Api, alpha: TenantHandle, settings: Settings
) -> None:
    token = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
    categories = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", token=token)
    created = await api.data(
        SUBMIT,
        {
            "input": {
                "complaint": {
                    "title": "楼道灯坏",
                    "content": "1单元楼道灯不亮。",
                    "categoryId": categories["complaintCategories"]["edges"][0]["node"]["id"],
                }
            }
        },
        token=token,
    )
    before = files_under(settings.upload_dir)
    # Not accepted yet, so it cannot be resolved: the refusal comes after the photo was stored.
    response = await api.upload(
        """mutation($input: ResolveComplaintInput!) { resolveComplaint(input: $input) { errors { code } } }""",
        {
            "input": {
                "complaintId": created["submitComplaint"]["complaint"]["id"],
                "reply": "已修好",
                "attachments": [None],
            }
        },
        {"input.attachments.0": ("fixed.jpg", photo("image/jpeg"), "image/jpeg")},
        token=await api.token("alpha", WORKER_1),
    )
    assert response.json()["data"]["resolveComplaint"]["errors"] == [{"code": "INVALID_TRANSITION"}]
    assert files_under(settings.upload_dir) == before


async def test_a_mutation_failing_after_another_in_one_request_leaves_the_others_files(
    api: Api, alpha: TenantHandle, settings: Settings
) -> None:
    token = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
    categories = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", token=token)
    complaint = {
        "title": "消防通道堵塞",
        "content": "2号楼消防通道停满了车。",
        "categoryId": categories["complaintCategories"]["edges"][0]["node"]["id"],
    }
    two = """mutation($first: SubmitComplaintInput!, $second: SubmitComplaintInput!) {
      first: submitComplaint(input: $first) { complaint { attachments { url } } errors { code } }
      second: submitComplaint(input: $second) { complaint { id } errors { code } } }"""
    response = await api.upload(
        two,
        {
            "first": {"complaint": {**complaint, "attachments": [None]}},
            "second": {"complaint": {**complaint, "title": ""}},
        },
        {"first.complaint.attachments.0": ("car.jpg", photo("image/jpeg"), "image/jpeg")},
        token=token,
    )
    data = response.json()["data"]
    assert data["second"]["errors"] == [{"code": "INVALID"}]
    [attachment] = data["first"]["complaint"]["attachments"]
    assert (await api.client.get(attachment["url"])).status_code == 200


@pytest.fixture
async def own_app(database: ProvisionedDatabase, clock: Clock, tmp_path: Path) -> AsyncIterator[Starlette]:
    app = create_app(
        settings_for(database.app_url, upload_dir=tmp_path / "uploads"), clock=clock.now, phone_code_sender=TEXTS
    )
    yield app
    await app.state.engine.dispose()


async def test_the_media_sweep_removes_what_no_row_names_and_spares_young_files(
    own_app: Starlette,
    wanjia: Wanjia,
    alpha: TenantHandle,
) -> None:
    root: Path = own_app.state.services.settings.upload_dir
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=own_app), base_url="http://testserver") as client:
        api = Api(client)
        token = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
        categories = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", token=token)
        await api.upload_ahead("never-named.jpg", photo("image/jpeg"), "image/jpeg", token=token)
        attached = (await api.upload_ahead("b.jpg", photo("image/jpeg"), "image/jpeg", token=token)).json()["id"]
        draft = {
            "title": "垃圾未清运",
            "content": "东门垃圾桶已满。",
            "categoryId": categories["complaintCategories"]["edges"][0]["node"]["id"],
            "attachmentIds": [attached],
        }
        submitted = await api.data(SUBMIT, {"input": {"complaint": draft}}, token=token)
        assert submitted["submitComplaint"]["errors"] == []
    attached_key = submitted["submitComplaint"]["complaint"]["attachments"][0]["url"].split("/files/")[1].split("?")[0]
    [unclaimed_key] = files_under(root) - {attached_key}
    # What a crash between writing and committing leaves, a write cut short, and one in flight.
    folder = (root / attached_key).parent
    (folder / "crashed.jpg").write_bytes(b"orphan")
    (folder / "cut-short.jpg.partial").write_bytes(b"half")
    (folder / "in-flight.jpg").write_bytes(b"being committed")
    stranger = root / str(uuid.uuid4())
    stranger.mkdir()
    (stranger / "kept.jpg").write_bytes(b"not ours to judge")
    later = datetime.now(UTC) + timedelta(hours=25)
    os.utime(folder / "in-flight.jpg", (later.timestamp() - 60, later.timestamp() - 60))
    in_flight = (folder / "in-flight.jpg").relative_to(root).as_posix()
    # Other tests' uploads of this street office have expired too: their rows go, whatever the count.
    summary = "过期未用的上传 [1-9][0-9]* 个，无记录引用的文件 2 个；未满 24 小时而保留 1 个。"

    preview = (await wanjia("media", "sweep", "--dry-run", at=later, WANJIA_UPLOAD_DIR=str(root))).output
    assert re.search("将删除：" + summary, preview), preview
    listed = set(preview.splitlines())
    assert {unclaimed_key, f"{folder.relative_to(root).as_posix()}/crashed.jpg"} <= listed
    assert f"{folder.relative_to(root).as_posix()}/cut-short.jpg.partial" in listed
    assert len(files_under(root)) == 6

    report = (await wanjia("media", "sweep", at=later, WANJIA_UPLOAD_DIR=str(root))).output
    assert re.search("已删除：" + summary, report), report
    assert "数据库中没有这些街道" in report
    assert files_under(root) == {attached_key, in_flight, f"{stranger.name}/kept.jpg"}


async def test_readiness_fails_when_uploads_cannot_be_written(
    database: ProvisionedDatabase, clock: Clock, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("uploads cannot go under a file")
    app = create_app(
        settings_for(database.app_url, upload_dir=blocked / "uploads"), clock=clock.now, phone_code_sender=TEXTS
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await client.get("/readyz")
    await app.state.engine.dispose()
    assert response.status_code == 503 and response.json() == {"status": "unavailable", "uploads": "not writable"}
