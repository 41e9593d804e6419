"""Where a photo or video was taken never reaches storage, whatever the format and wherever
the location hides; an image too large in pixels is refused before anything decodes it; and
the work happens off the event loop."""

from __future__ import annotations

import io
import struct
import threading
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import resolvers.uploads
from models.geotags import Malformed, strip_xmp, without_location
from models.media import Limits, Refused, prepared
from server.app import create_app
from tests.conftest import settings_for
from tests.media_files import (
    GPS_IFD,
    IMAGE_FORMATS,
    LOCATION_TRACES,
    MAKE,
    SAMPLE,
    XMP,
    box,
    full_box,
    photo,
    png_bomb,
    png_declaring,
    video,
)
from tests.provision import ProvisionedDatabase
from tests.support import TEXTS, Api, Clock, TenantHandle

SUBMIT = """mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) {
  complaint { id attachments { kind contentType size url } } errors { field code message } } }"""
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}


@pytest.fixture
async def resident(api: Api, alpha: TenantHandle) -> str:
    return (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]


@pytest.fixture(scope="module")
async def category(api: Api) -> str:
    data = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha")
    return data["complaintCategories"]["edges"][0]["node"]["id"]


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return png_bomb()


def draft(category: str, files: int = 1) -> dict:  # type: ignore[type-arg]
    return {
        "input": {
            "complaint": {
                "title": "路灯不亮",
                "content": "5号楼门前的路灯坏了一周。",
                "categoryId": category,
                "attachments": [None] * files,
            }
        }
    }


async def submit_file(api: Api, token: str, category: str, name: str, data: bytes, declared: str) -> dict:  # type: ignore[type-arg]
    response = await api.upload(
        SUBMIT, draft(category), {"input.complaint.attachments.0": (name, data, declared)}, token=token
    )
    return response.json()["data"]["submitComplaint"]


@pytest.mark.parametrize("carrier", ["EXIF", "XMP", "EXIF and XMP"])
@pytest.mark.parametrize("content_type", list(IMAGE_FORMATS))
async def test_a_photo_loses_its_location_and_keeps_the_rest(
    api: Api, resident: str, category: str, content_type: str, carrier: str
) -> None:
    original = photo(content_type, exif="EXIF" in carrier, xmp="XMP" in carrier)
    assert any(trace in original for trace in LOCATION_TRACES) or GPS_IFD in Image.open(io.BytesIO(original)).getexif()
    result = await submit_file(api, resident, category, f"现场.{EXTENSIONS[content_type]}", original, content_type)
    assert result["errors"] == []
    [attachment] = result["complaint"]["attachments"]
    assert attachment["contentType"] == content_type
    stored = (await api.client.get(attachment["url"])).content
    assert [trace for trace in LOCATION_TRACES if trace in stored] == []
    exif = Image.open(io.BytesIO(stored)).getexif()
    assert GPS_IFD not in exif
    if "EXIF" in carrier:
        assert exif[MAKE] == "WanjiaCam"
    if "XMP" in carrier:
        assert b'xmp:CreatorTool="WanjiaCam"' in stored and b"<xmp:Rating>5</xmp:Rating>" in stored
    # Not re-encoded: the same pixels, and the file keeps its length.
    assert Image.open(io.BytesIO(stored)).tobytes() == Image.open(io.BytesIO(original)).tobytes()
    assert len(stored) == len(original)


@pytest.mark.parametrize(("brand", "content_type"), [(b"isom", "video/mp4"), (b"qt  ", "video/quicktime")])
async def test_a_video_loses_its_location_atoms_without_moving_a_byte_of_its_samples(
    api: Api, resident: str, category: str, brand: bytes, content_type: str
) -> None:
    original, sample_offset = video(brand)
    assert all(trace in original for trace in LOCATION_TRACES)
    result = await submit_file(api, resident, category, "clip.bin", original, "application/octet-stream")
    [attachment] = result["complaint"]["attachments"]
    assert attachment["kind"] == "VIDEO" and attachment["contentType"] == content_type
    stored = (await api.client.get(attachment["url"])).content
    assert [trace for trace in LOCATION_TRACES if trace in stored] == []
    assert b"loci" not in stored and b"\xa9xyz" not in stored
    # The sample table still points at the sample: nothing moved.
    assert len(stored) == len(original) and stored[sample_offset : sample_offset + len(SAMPLE)] == SAMPLE
    kept = (b"com.apple.quicktime.make", b"Apple", b"iPhone 15", b"Our block", b'xmp:CreatorTool="WanjiaCam"')
    assert [k for k in kept if k not in stored] == []


async def test_a_photo_without_a_location_is_stored_byte_for_byte(api: Api, resident: str, category: str) -> None:
    original = photo("image/jpeg", exif=False, xmp=False)
    result = await submit_file(api, resident, category, "a.jpg", original, "image/jpeg")
    assert (await api.client.get(result["complaint"]["attachments"][0]["url"])).content == original


async def test_a_decompression_bomb_is_refused_from_its_header_as_too_large(
    api: Api, resident: str, category: str, bomb: bytes
) -> None:
    assert len(bomb) < 1024 * 1024
    result = await submit_file(api, resident, category, "bomb.png", bomb, "image/png")
    assert result["complaint"] is None
    assert result["errors"] == [
        {
            "field": "attachments.0",
            "code": "IMAGE_TOO_LARGE",
            "message": "图片像素过多（13000×13000），单张图片最多 5000 万像素。",
        }
    ]


def test_the_pixel_limit_is_checked_before_any_pixel_is_decoded() -> None:
    limits = Limits(image_bytes=10 << 20, video_bytes=100 << 20, image_pixels=50_000_000)
    with pytest.raises(Refused) as refused:
        prepared(png_declaring(20000, 20000), limits)
    # Decoding would have failed on the pixel data that is not there.
    assert refused.value.code == "IMAGE_TOO_LARGE"


@pytest.mark.parametrize(("size", "accepted"), [((10, 10), True), ((11, 10), False)])
async def test_the_pixel_limit_is_a_setting(
    database: ProvisionedDatabase,
    clock: Clock,
    tmp_path: Path,
    category: str,
    alpha: TenantHandle,
    size: tuple[int, int],
    accepted: bool,
) -> None:
    app = create_app(
        settings_for(database.app_url, max_image_pixels=100, upload_dir=tmp_path),
        clock=clock.now,
        phone_code_sender=TEXTS,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client)
        token = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
        result = await submit_file(api, token, category, "a.png", photo("image/png", size=size), "image/png")
    await app.state.engine.dispose()
    assert [e["code"] for e in result["errors"]] == ([] if accepted else ["IMAGE_TOO_LARGE"])


async def test_files_are_read_on_the_media_threads_not_the_event_loop(
    api: Api, resident: str, category: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = resolvers.uploads.prepared

    def watched(data: bytes, limits: Limits):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return real(data, limits)

    monkeypatch.setattr(resolvers.uploads, "prepared", watched)
    result = await submit_file(api, resident, category, "a.png", photo("image/png"), "image/png")
    assert result["errors"] == []
    assert len(threads) == 1 and threads[0].startswith("wanjia-media")
    assert threads[0] != threading.current_thread().name


# --- the rules directly --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "packet",
    [
        pytest.param(XMP.replace(b"<x:xmpmeta", b'<!DOCTYPE x [<!ENTITY e "GPS">]><x:xmpmeta'), id="with a DTD"),
        pytest.param(XMP.replace(b"</exif:GPSLatitude>", b""), id="not well-formed"),
        pytest.param(XMP.decode().encode("utf-16"), id="UTF-16"),
    ],
)
def test_an_xmp_packet_that_cannot_be_parsed_safely_is_blanked_whole(packet: bytes) -> None:
    edited = bytearray(packet)
    strip_xmp(edited, 0, len(edited))
    assert edited == b" " * len(packet)


def test_location_properties_are_blanked_in_place_and_the_packet_stays_well_formed() -> None:
    edited = bytearray(XMP)
    strip_xmp(edited, 0, len(edited))
    assert len(edited) == len(XMP)
    root = ElementTree.fromstring(bytes(edited))
    names = {element.tag.split("}")[-1] for element in root.iter()} | {
        name.split("}")[-1] for element in root.iter() for name in element.attrib
    }
    assert {"CreatorTool", "Rating"} <= names
    assert not names & {"GPSLatitude", "GPSLongitude", "GPSAltitude", "City"}


def built_to_exhaust(kind: str) -> tuple[bytes, str]:
    if kind == "nested boxes":
        nested = b""
        for _ in range(5000):
            nested = box(b"udta", nested)
        return box(b"ftyp", b"isom", bytes(4), b"isom") + box(b"moov", nested), "video/mp4"
    if kind == "tiny segments":
        return b"\xff\xd8" + b"\xff\xfe\x00\x02" * 200_000 + b"\xff\xd9", "image/jpeg"
    # An EXIF item located 60000 times over the whole file: gathering it would take gigabytes.
    extents = struct.pack(">H", 60000) + struct.pack(">II", 0, 0) * 60000
    iloc = full_box(b"iloc", bytes([0x44, 0x00]), struct.pack(">HHH", 1, 1, 0), extents, version=0)
    iinf = full_box(b"iinf", struct.pack(">H", 1), full_box(b"infe", struct.pack(">HH", 1, 0), b"Exif\x00", version=2))
    meta = full_box(b"meta", full_box(b"hdlr", bytes(4), b"pict", bytes(13)), iinf, iloc)
    return box(b"ftyp", b"heic", bytes(4), b"mif1heic") + meta, "image/heic"


@pytest.mark.parametrize("kind", ["nested boxes", "tiny segments", "endless extents"])
def test_a_file_built_to_exhaust_the_reader_is_refused(kind: str) -> None:
    data, content_type = built_to_exhaust(kind)
    with pytest.raises(Malformed):
        without_location(data, content_type)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    content_type=st.sampled_from([*IMAGE_FORMATS, "video/mp4"]),
    cuts=st.lists(st.tuples(st.integers(0, 4000), st.binary(min_size=1, max_size=8)), max_size=4),
)
def test_a_damaged_file_is_cleaned_or_refused_never_crashes(content_type: str, cuts: list[tuple[int, bytes]]) -> None:
    data = bytearray(video(b"isom")[0] if content_type == "video/mp4" else photo(content_type))
    for position, replacement in cuts:
        position %= len(data)
        data[position : position + len(replacement)] = replacement
    try:
        cleaned = without_location(bytes(data), content_type)
    except Malformed:
        return
    if content_type not in ("image/png", "image/webp"):
        assert len(cleaned) == len(data)
