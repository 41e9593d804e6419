"""Photos and videos: type decided by content, location stripped, limits, CSRF guard, signed
downloads, and nothing written when an upload is refused."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from models.settings import Settings
from server.app import create_app
from tests.conftest import WORKER_1, settings_for
from tests.provision import ProvisionedDatabase
from tests.support import TEXTS, Api, Clock, TenantHandle

SUBMIT = """mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) {
  complaint { id attachments { kind contentType size url } } errors { field code message } } }"""
GPS_IFD = 0x8825


def photo_with_location() -> bytes:
    image = Image.new("RGB", (16, 16), "orange")
    exif = Image.Exif()
    exif[0x010F] = "WanjiaCam"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (40.0, 39.0, 0.0), 3: "E", 4: (109.0, 50.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
async def resident(api: Api, alpha: TenantHandle) -> str:
    return (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]


@pytest.fixture(scope="module")
async def category(api: Api) -> str:
    data = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha")
    return data["complaintCategories"]["edges"][0]["node"]["id"]


def draft(category: str, files: int) -> dict:  # type: ignore[type-arg]
    return {
        "input": {
            "complaint": {
                "title": "垃圾桶满溢",
                "content": "小区东门垃圾桶两天没清运。",
                "categoryId": category,
                "attachments": [None] * files,
            }
        }
    }


def stored_files(settings: Settings) -> list[Path]:
    return [p for p in Path(settings.upload_dir).rglob("*") if p.is_file()]


async def test_a_photo_is_stored_without_where_it_was_taken_and_downloads_by_signed_url(
    api: Api, resident: str, category: str
) -> None:
    original = photo_with_location()
    assert GPS_IFD in Image.open(io.BytesIO(original)).getexif()
    response = await api.upload(
        SUBMIT,
        draft(category, 1),
        {"input.complaint.attachments.0": ("现场.jpg", original, "image/jpeg")},
        token=resident,
    )
    result = response.json()["data"]["submitComplaint"]
    assert result["errors"] == []
    [attachment] = result["complaint"]["attachments"]
    assert attachment["kind"] == "IMAGE" and attachment["contentType"] == "image/jpeg"
    download = await api.client.get(attachment["url"])
    assert download.status_code == 200
    stored = Image.open(io.BytesIO(download.content)).getexif()
    assert GPS_IFD not in stored and stored[0x010F] == "WanjiaCam"


async def test_a_tampered_or_unsigned_download_link_is_refused(api: Api, resident: str, category: str) -> None:
    response = await api.upload(
        SUBMIT, draft(category, 1), {"input.complaint.attachments.0": ("a.png", png(), "image/png")}, token=resident
    )
    url = response.json()["data"]["submitComplaint"]["complaint"]["attachments"][0]["url"]
    path = url.split("?")[0]
    assert (await api.client.get(path)).status_code == 404
    assert (await api.client.get(url.replace("signature=", "signature=0"))).status_code == 404
    assert (await api.client.get(url.replace("expires=", "expires=1"))).status_code == 404


async def test_a_text_file_named_jpg_is_refused_and_nothing_is_written(
    api: Api, resident: str, category: str, settings: Settings
) -> None:
    files_before = stored_files(settings)
    count_before = (await api.data("{ complaintCounts { total } }", token=resident))["complaintCounts"]["total"]
    response = await api.upload(
        SUBMIT,
        draft(category, 2),
        {
            "input.complaint.attachments.0": ("ok.png", png(), "image/png"),
            "input.complaint.attachments.1": ("photo.jpg", b"this is not a photo at all, just text", "image/jpeg"),
        },
        token=resident,
    )
    result = response.json()["data"]["submitComplaint"]
    assert result["complaint"] is None
    assert result["errors"] == [
        {
            "field": "attachments.1",
            "code": "UNSUPPORTED_FILE",
            "message": "只能上传图片（JPEG、PNG、WebP、HEIC）或短视频（MP4、MOV）。",
        }
    ]
    assert (await api.data("{ complaintCounts { total } }", token=resident))["complaintCounts"]["total"] == count_before
    assert stored_files(settings) == files_before


async def test_uploads_need_the_csrf_guard_header(api: Api, resident: str, category: str) -> None:
    response = await api.upload(
        SUBMIT,
        draft(category, 1),
        {"input.complaint.attachments.0": ("a.png", png(), "image/png")},
        token=resident,
        guarded=False,
    )
    assert response.status_code == 400 and "GraphQL-Require-Preflight" in response.text


async def test_at_most_nine_files(api: Api, resident: str, category: str) -> None:
    files = {f"input.complaint.attachments.{i}": (f"{i}.png", png(), "image/png") for i in range(10)}
    response = await api.upload(SUBMIT, draft(category, 10), files, token=resident)
    assert response.json()["data"]["submitComplaint"]["errors"][0]["code"] == "TOO_MANY_FILES"


async def test_an_image_over_the_size_limit_is_refused(
    database: ProvisionedDatabase, clock: Clock, tmp_path: Path, category: str, alpha: TenantHandle
) -> None:
    app = create_app(
        settings_for(database.app_url, max_image_bytes=100, upload_dir=tmp_path),
        clock=clock.now,
        phone_code_sender=TEXTS,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client)
        token = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
        response = await api.upload(
            SUBMIT,
            draft(category, 1),
            {"input.complaint.attachments.0": ("big.jpg", photo_with_location(), "image/jpeg")},
            token=token,
        )
    await app.state.engine.dispose()
    assert response.json()["data"]["submitComplaint"]["errors"][0]["code"] == "FILE_TOO_LARGE"
    assert not any(tmp_path.rglob("*.jpg"))  # noqa: ASYNC240 - a test's look at its own tmp dir


async def test_the_handler_resolves_with_a_photo_the_resident_can_see(api: Api, resident: str, category: str) -> None:
    created = await api.data(SUBMIT, draft(category, 0), token=resident)
    complaint_id = created["submitComplaint"]["complaint"]["id"]
    worker = await api.token("alpha", WORKER_1)
    for step in ("acceptComplaint", "startComplaintWork"):
        await api.data(
            f"mutation($id: ID!) {{ {step}(input: {{complaintId: $id}}) {{ errors {{ code }} }} }}",
            {"id": complaint_id},
            token=worker,
        )
    resolve = """mutation($input: ResolveComplaintInput!) { resolveComplaint(input: $input) { complaint { status attachments { kind } } errors { code } } }"""
    response = await api.upload(
        resolve,
        {"input": {"complaintId": complaint_id, "reply": "已清运", "attachments": [None]}},
        {"input.attachments.0": ("after.png", png(), "image/png")},
        token=worker,
    )
    assert response.json()["data"]["resolveComplaint"] == {
        "complaint": {"status": "RESOLVED", "attachments": [{"kind": "IMAGE"}]},
        "errors": [],
    }
    seen = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Complaint { attachments { url } } } }",
        {"id": complaint_id},
        token=resident,
    )
    assert (await api.client.get(seen["node"]["attachments"][0]["url"])).status_code == 200


def short_video() -> bytes:
    """The opening of an MP4 file (an ftyp box): enough for the type to be told from content."""
    return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + bytes(64)


async def test_a_short_video_is_accepted_whatever_its_name(api: Api, resident: str, category: str) -> None:
    response = await api.upload(
        SUBMIT,
        draft(category, 1),
        {"input.complaint.attachments.0": ("clip.bin", short_video(), "application/octet-stream")},
        token=resident,
    )
    [attachment] = response.json()["data"]["submitComplaint"]["complaint"]["attachments"]
    assert attachment["kind"] == "VIDEO" and attachment["contentType"] == "video/mp4"
    assert (await api.client.get(attachment["url"])).content == short_video()


def heic_with_location() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    image = Image.new("RGB", (16, 16), "purple")
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (40.0, 39.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, "HEIF", exif=exif.tobytes())
    return buffer.getvalue()


async def test_an_iphone_photo_loses_its_location_too(api: Api, resident: str, category: str) -> None:
    original = heic_with_location()
    response = await api.upload(
        SUBMIT,
        draft(category, 1),
        {"input.complaint.attachments.0": ("IMG_0001.HEIC", original, "image/heic")},
        token=resident,
    )
    [attachment] = response.json()["data"]["submitComplaint"]["complaint"]["attachments"]
    assert attachment["contentType"] == "image/heic"
    stored = (await api.client.get(attachment["url"])).content
    assert GPS_IFD in Image.open(io.BytesIO(original)).getexif()
    assert GPS_IFD not in Image.open(io.BytesIO(stored)).getexif()
