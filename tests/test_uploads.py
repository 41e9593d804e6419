"""`POST /uploads` for clients that send one file per call (a mini-program's `wx.uploadFile`):
the same checks as any upload, errors shaped like GraphQL's, and an id only its uploader can
use, once, before it expires. Attachment URLs are absolute and stay the same long enough for an
app's image cache."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from strawberry.relay import to_base64

from server.app import create_app
from tests.conftest import WORKER_1, settings_for
from tests.media_files import LOCATION_TRACES, photo, png_bomb, video
from tests.provision import ProvisionedDatabase
from tests.support import TEXTS, Api, Clock, TenantHandle, fresh_phone, sent_by_a_client_gone

SUBMIT = """mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) {
  complaint { id attachments { kind contentType size url } } errors { field code message } } }"""
ATTACHMENTS = "query($id: ID!) { node(id: $id) { ... on Complaint { attachments { url } } } }"


@pytest.fixture
async def resident(api: Api, alpha: TenantHandle) -> str:
    return (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]


@pytest.fixture(scope="module")
async def category(api: Api) -> str:
    data = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha")
    return data["complaintCategories"]["edges"][0]["node"]["id"]


def draft(category: str, attachment_ids: list[str], files: int = 0) -> dict:  # type: ignore[type-arg]
    return {
        "input": {
            "complaint": {
                "title": "井盖缺失",
                "content": "3号楼北侧井盖不见了。",
                "categoryId": category,
                "attachments": [None] * files,
                "attachmentIds": attachment_ids,
            }
        }
    }


async def uploaded(api: Api, token: str, data: bytes | None = None) -> str:
    response = await api.upload_ahead("wx-tmp.jpg", data or photo("image/jpeg"), "image/jpeg", token=token)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_a_file_uploaded_first_is_attached_by_id_without_its_location(
    api: Api, resident: str, category: str
) -> None:
    response = await api.upload_ahead("wx-tmp.jpg", photo("image/jpeg"), "image/jpeg", token=resident)
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "IMAGE" and body["contentType"] == "image/jpeg" and body["size"] > 0
    assert body["expiresAt"].endswith("+08:00")
    result = await api.data(SUBMIT, draft(category, [body["id"]]), token=resident)
    [attachment] = result["submitComplaint"]["complaint"]["attachments"]
    assert attachment["url"].startswith("http://testserver/files/")
    stored = (await api.client.get(attachment["url"])).content
    assert stored.startswith(b"\xff\xd8") and not any(trace in stored for trace in LOCATION_TRACES)


async def test_files_sent_and_files_uploaded_first_go_together(api: Api, resident: str, category: str) -> None:
    upload_id = await uploaded(api, resident, video(b"isom")[0])
    response = await api.upload(
        SUBMIT,
        draft(category, [upload_id], files=1),
        {"input.complaint.attachments.0": ("a.png", photo("image/png"), "image/png")},
        token=resident,
    )
    kinds = [a["kind"] for a in response.json()["data"]["submitComplaint"]["complaint"]["attachments"]]
    assert sorted(kinds) == ["IMAGE", "VIDEO"]


async def test_a_grid_worker_resolves_with_a_photo_uploaded_first(api: Api, resident: str, category: str) -> None:
    created = await api.data(SUBMIT, draft(category, []), token=resident)
    complaint_id = created["submitComplaint"]["complaint"]["id"]
    worker = await api.token("alpha", WORKER_1)
    for step in ("acceptComplaint", "startComplaintWork"):
        await api.data(
            f"mutation($id: ID!) {{ {step}(input: {{complaintId: $id}}) {{ errors {{ code }} }} }}",
            {"id": complaint_id},
            token=worker,
        )
    resolve = """mutation($input: ResolveComplaintInput!) { resolveComplaint(input: $input) {
        complaint { status attachments { kind } } errors { field code } } }"""
    upload_id = await uploaded(api, worker)
    result = await api.data(
        resolve,
        {"input": {"complaintId": complaint_id, "reply": "已补装井盖", "attachmentIds": [upload_id]}},
        token=worker,
    )
    assert result["resolveComplaint"] == {
        "complaint": {"status": "RESOLVED", "attachments": [{"kind": "IMAGE"}]},
        "errors": [],
    }


@pytest.mark.parametrize("who", ["another resident", "a resident of another street office"])
async def test_an_upload_id_works_for_its_uploader_only(
    api: Api, resident: str, category: str, alpha: TenantHandle, beta: TenantHandle, who: str
) -> None:
    upload_id = await uploaded(api, resident)
    if who == "another resident":
        other = (await api.register_resident("alpha", alpha.buildings["A1-G1-B2"]))["tokens"]["accessToken"]
        their_category = category
    else:
        other = (await api.register_resident("beta", beta.buildings["B1-G1-B1"]))["tokens"]["accessToken"]
        categories = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", token=other)
        their_category = categories["complaintCategories"]["edges"][0]["node"]["id"]
    result = await api.data(SUBMIT, draft(their_category, [upload_id]), token=other)
    assert result["submitComplaint"]["errors"] == [
        {"field": "attachmentIds.0", "code": "NOT_FOUND", "message": "上传的文件不存在或已过期，请重新上传。"}
    ]
    mine = await api.data(SUBMIT, draft(category, [upload_id]), token=resident)
    assert mine["submitComplaint"]["errors"] == []


async def test_an_upload_id_is_claimed_once(api: Api, resident: str, category: str) -> None:
    upload_id = await uploaded(api, resident)
    first = await api.data(SUBMIT, draft(category, [upload_id]), token=resident)
    assert first["submitComplaint"]["errors"] == []
    again = await api.data(SUBMIT, draft(category, [upload_id]), token=resident)
    assert [e["code"] for e in again["submitComplaint"]["errors"]] == ["NOT_FOUND"]
    twice = await api.data(SUBMIT, draft(category, [await uploaded(api, resident)] * 2), token=resident)
    assert twice["submitComplaint"]["errors"] == [
        {"field": "attachmentIds.1", "code": "DUPLICATE", "message": "同一个文件只能附上一次。"}
    ]


async def test_two_mutations_naming_one_upload_at_once_attach_it_once(api: Api, resident: str, category: str) -> None:
    upload_id = await uploaded(api, resident)
    results = await asyncio.gather(*(api.data(SUBMIT, draft(category, [upload_id]), token=resident) for _ in range(2)))
    outcomes = sorted([e["code"] for e in result["submitComplaint"]["errors"]] for result in results)
    assert outcomes == [[], ["NOT_FOUND"]]


async def test_a_refused_mutation_leaves_its_uploads_claimable(api: Api, resident: str, category: str) -> None:
    good = await uploaded(api, resident)
    unknown = to_base64("PendingUpload", "0190b5c4-0000-7000-8000-000000000000")
    refused = await api.data(SUBMIT, draft(category, [good, unknown]), token=resident)
    assert [e["field"] for e in refused["submitComplaint"]["errors"]] == ["attachmentIds.1"]
    accepted = await api.data(SUBMIT, draft(category, [good]), token=resident)
    assert accepted["submitComplaint"]["errors"] == []


async def test_an_unclaimed_upload_expires(api: Api, clock: Clock, alpha: TenantHandle, category: str) -> None:
    phone = fresh_phone()
    await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=phone)
    upload_id = await uploaded(api, await api.token("alpha", phone))
    with clock.later(timedelta(hours=24, minutes=1)):
        result = await api.data(SUBMIT, draft(category, [upload_id]), token=await api.token("alpha", phone))
    assert [e["code"] for e in result["submitComplaint"]["errors"]] == ["NOT_FOUND"]


async def test_an_id_that_is_not_an_upload_is_invalid(api: Api, resident: str, category: str) -> None:
    result = await api.data(
        SUBMIT, draft(category, [to_base64("Complaint", "0190b5c4-0000-7000-8000-000000000000")]), token=resident
    )
    assert [(e["field"], e["code"]) for e in result["submitComplaint"]["errors"]] == [("attachmentIds.0", "INVALID_ID")]


def error_of(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"errors"} and body["errors"][0]["message"]
    return response.status_code, body["errors"][0]["extensions"]["code"]


async def test_uploads_need_a_bearer_token_so_a_forged_form_post_gets_nowhere(api: Api) -> None:
    # What a page on another site can make a browser send: a form post, cookies at most.
    forged = await api.client.post(
        "/uploads", files={"file": ("a.jpg", photo("image/jpeg"), "image/jpeg")}, headers={"Cookie": "session=x"}
    )
    assert error_of(forged) == (401, "UNAUTHENTICATED")
    bad = await api.upload_ahead("a.jpg", photo("image/jpeg"), "image/jpeg", token="not-a-token")
    assert error_of(bad) == (401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("name", "data", "declared", "expected"),
    [
        ("notes.jpg", b"plain text, not a photo", "image/jpeg", (415, "UNSUPPORTED_FILE")),
        ("bomb.png", None, "image/png", (413, "IMAGE_TOO_LARGE")),
    ],
)
async def test_upload_errors_have_the_shape_of_graphql_errors_and_a_proper_status(
    api: Api, resident: str, name: str, data: bytes | None, declared: str, expected: tuple[int, str]
) -> None:
    response = await api.upload_ahead(name, data if data is not None else png_bomb(), declared, token=resident)
    assert error_of(response) == expected


async def test_an_upload_over_the_size_limit_is_413(
    database: ProvisionedDatabase, clock: Clock, tmp_path: Path, alpha: TenantHandle
) -> None:
    app = create_app(
        settings_for(database.app_url, max_image_bytes=100, upload_dir=tmp_path),
        clock=clock.now,
        phone_code_sender=TEXTS,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client)
        token = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
        response = await api.upload_ahead("big.jpg", photo("image/jpeg"), "image/jpeg", token=token)
    await app.state.engine.dispose()
    assert error_of(response) == (413, "FILE_TOO_LARGE")
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # noqa: ASYNC240 - the test's own tmp dir


@pytest.mark.parametrize(
    ("request_kwargs", "expected"),
    [
        ({"json": {"file": "x"}}, (415, "UNSUPPORTED_MEDIA_TYPE")),
        ({"data": {"only": "a field"}, "files": {}}, (400, "BAD_REQUEST")),
        (
            {"files": [("a", ("a.jpg", b"1", "image/jpeg")), ("b", ("b.jpg", b"2", "image/jpeg"))]},
            (400, "BAD_REQUEST"),
        ),
    ],
    ids=["not multipart", "no file", "two files"],
)
async def test_a_malformed_upload_request_is_400_or_415(
    api: Api,
    resident: str,
    request_kwargs: dict,
    expected: tuple[int, str],  # type: ignore[type-arg]
) -> None:
    if request_kwargs.get("files") == {}:
        # httpx sends a form without files as urlencoded; force multipart with an empty part list.
        response = await api.client.post(
            "/uploads",
            content=b'--x\r\nContent-Disposition: form-data; name="only"\r\n\r\na field\r\n--x--\r\n',
            headers={"Authorization": f"Bearer {resident}", "Content-Type": "multipart/form-data; boundary=x"},
        )
    else:
        response = await api.client.post("/uploads", headers={"Authorization": f"Bearer {resident}"}, **request_kwargs)
    assert error_of(response) == expected


async def test_uploads_answer_only_post(api: Api, resident: str) -> None:
    response = await api.client.get("/uploads", headers={"Authorization": f"Bearer {resident}"})
    assert error_of(response) == (405, "METHOD_NOT_ALLOWED") and response.headers["allow"] == "POST"


async def test_an_attachment_url_is_stable_within_its_window_and_cacheable(
    api: Api, clock: Clock, alpha: TenantHandle, category: str
) -> None:
    phone = fresh_phone()
    token = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=phone))["tokens"]["accessToken"]
    created = await api.data(SUBMIT, draft(category, [await uploaded(api, token)]), token=token)
    complaint_id = created["submitComplaint"]["complaint"]["id"]
    start = datetime(2026, 11, 30, 2, 0, 5, tzinfo=UTC)

    async def url_at(moment: datetime) -> str:
        with clock.at(moment):
            data = await api.data(ATTACHMENTS, {"id": complaint_id}, token=await api.token("alpha", phone))
        return data["node"]["attachments"][0]["url"]

    first = await url_at(start)
    assert await url_at(start + timedelta(minutes=59)) == first
    assert await url_at(start + timedelta(hours=1)) != first
    with clock.at(start + timedelta(minutes=30)):
        download = await api.client.get(first)
    assert download.status_code == 200
    # Valid until the end of the next hour: cached no longer than that.
    assert (
        download.headers["cache-control"]
        == f"private, max-age={int(timedelta(minutes=89, seconds=55).total_seconds())}"
    )
    with clock.at(start + timedelta(hours=2)):
        assert (await api.client.get(first)).status_code == 404


async def test_attachment_urls_use_the_public_url_when_set(
    database: ProvisionedDatabase, clock: Clock, tmp_path: Path, category: str, alpha: TenantHandle
) -> None:
    settings = settings_for(database.app_url, public_url="https://api.wanjia.example/", upload_dir=tmp_path)
    app = create_app(settings, clock=clock.now, phone_code_sender=TEXTS)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client)
        token = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
        result = await api.data(SUBMIT, draft(category, [await uploaded(api, token)]), token=token)
    await app.state.engine.dispose()
    url = result["submitComplaint"]["complaint"]["attachments"][0]["url"]
    assert url.startswith("https://api.wanjia.example/files/")


async def test_an_uploader_gone_before_the_file_arrived_is_not_an_error(
    app: Starlette, resident: str, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"Authorization": f"Bearer {resident}", "Content-Type": "multipart/form-data; boundary=x"}
    with caplog.at_level(logging.WARNING):
        sent = await sent_by_a_client_gone(app, "/uploads", headers)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 499
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
