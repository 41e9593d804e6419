"""Service guides through the endpoint, on both databases: writing and publishing guides in
versions, public reading, one search behaviour (substrings, title hits first, short terms),
applications through one to three review levels with returns, rejections and deadlines, and the
community certificate: its PDF and its check by code.
"Now" is Tuesday 1 December 2026, 09:00 China Standard Time."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from starlette.applications import Starlette

from models.guide_certificates import CertificateText, render_certificate
from models.guides import ApplicationStatus, ReviewLevel, ServiceApplication, search_document, search_terms, searchable
from schema.guides import APPLICATION_CAN
from tests.conftest import COMMUNITY_ADMIN, OTHER_COMMUNITY_ADMIN, OTHER_STAFF, STAFF, TENANT_ADMIN, WORKER_1
from tests.media_files import photo
from tests.support import Api, Clock, TenantHandle, fresh_phone
from tests.test_viewer_can import Walk

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)

GUIDE = (
    "guide { id kind status title summary materials steps version hasUnpublishedChanges reviewLevels "
    "viewerCan { update publish unpublish } } errors { field code message }"
)
APPLICATION = (
    "application { id status level reviewLevels reason dueAt overdue guideTitle purpose "
    "viewerCan { forward approve sendBack reject resubmit withdraw revokeServiceCertificate } "
    "certificate { code title holderName issuer revokedAt pdfUrl } } errors { field code message }"
)


def mutation(name: str, input_type: str, payload: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {payload} }} }}"


CREATE = mutation("createServiceGuide", "CreateServiceGuideInput", GUIDE)
UPDATE = mutation("updateServiceGuide", "UpdateServiceGuideInput", GUIDE)
PUBLISH = mutation("publishServiceGuide", "ServiceGuideStepInput", GUIDE)
UNPUBLISH = mutation("unpublishServiceGuide", "ServiceGuideStepInput", GUIDE)
APPLY = mutation("applyForService", "ApplyForServiceInput", APPLICATION)
FORWARD = mutation("forwardServiceApplication", "ServiceApplicationStepInput", APPLICATION)
APPROVE = mutation("approveServiceApplication", "ServiceApplicationStepInput", APPLICATION)
SEND_BACK = mutation("sendBackServiceApplication", "ServiceApplicationReasonInput", APPLICATION)
REJECT = mutation("rejectServiceApplication", "ServiceApplicationReasonInput", APPLICATION)
RESUBMIT = mutation("resubmitServiceApplication", "ResubmitServiceApplicationInput", APPLICATION)
WITHDRAW = mutation("withdrawServiceApplication", "WithdrawServiceApplicationInput", APPLICATION)
REVOKE = mutation("revokeServiceCertificate", "ServiceApplicationReasonInput", APPLICATION)
SEARCH = """query($kind: ServiceGuideKind, $search: String, $first: Int, $after: String) {
  serviceGuides(kind: $kind, search: $search, first: $first, after: $after) {
    totalCount edges { node { id title } } pageInfo { hasNextPage endCursor } } }"""
VERIFY = (
    "query($code: String!) { verifyCertificate(code: $code) { genuine code title holder issuer issuedAt revoked } }"
)
NOTES = "{ notifications(first: 50) { edges { node { kind body subject { __typename id } } } } }"
MATERIALS = ["居民身份证", "户口簿"]


@pytest.fixture(autouse=True)
def frozen(clock: Clock) -> Iterator[None]:
    with clock.at(NOW):
        yield


def content(title: str = "居住证明", **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "summary": "为辖区常住居民出具居住情况证明。",
        "conditions": "在本社区实际居住满六个月。",
        "materials": MATERIALS,
        "steps": ["线上提交申请", "社区审核", "领取证明"],
        "whereToGo": "社区党群服务中心一楼便民窗口",
        "officeHours": "工作日 9:00-12:00，13:30-17:30",
        "phone": "0472-5123456",
        "fees": "免费",
        "timeLimitDays": 3,
        **extra,
    }


async def justice(api: Api) -> str:
    found = await api.data("{ departments(first: 10) { edges { node { id code } } } }", tenant="alpha")
    return next(e["node"]["id"] for e in found["departments"]["edges"] if e["node"]["code"] == "justice")


async def created(api: Api, kind: str = "COMMUNITY_CERTIFICATE", *, publish: bool = True, **fields: Any) -> str:
    admin = await api.token("alpha", TENANT_ADMIN)
    extra = {"departmentId": await justice(api)} if kind == "THREE_LEVEL" else {}
    made = (await api.data(CREATE, {"input": {"kind": kind, "guide": content(**fields), **extra}}, token=admin))[
        "createServiceGuide"
    ]
    assert made["errors"] == [], made
    guide_id = made["guide"]["id"]
    if publish:
        done = (await api.data(PUBLISH, {"input": {"guideId": guide_id}}, token=admin))["publishServiceGuide"]
        assert done["errors"] == [] and done["guide"]["status"] == "PUBLISHED", done
    return guide_id


async def resident(api: Api, alpha: TenantHandle, building: str = "A1-G1-B1") -> str:
    phone = fresh_phone()
    registered = await api.register_resident(
        "alpha", alpha.buildings[building], phone=phone, name="王小明", room="2-301"
    )
    assert registered["errors"] == []
    return phone


async def upload(api: Api, token: str) -> str:
    response = await api.upload_ahead("材料.jpg", photo("image/jpeg"), "image/jpeg", token=token)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def files_for(api: Api, token: str, names: list[str]) -> list[dict[str, Any]]:
    return [{"material": name, "attachmentIds": [await upload(api, token)]} for name in names]


async def applied(api: Api, phone: str, guide_id: str) -> dict[str, Any]:
    token = await api.token("alpha", phone)
    values = {"guideId": guide_id, "purpose": "办理子女入学", "materials": await files_for(api, token, MATERIALS)}
    return (await api.data(APPLY, {"input": values}, token=token))["applyForService"]


async def step(api: Api, query: str, phone: str, application_id: str, **extra: Any) -> dict[str, Any]:
    body = await api.data(
        query, {"input": {"applicationId": application_id, **extra}}, token=await api.token("alpha", phone)
    )
    return next(iter(body.values()))


async def kinds_told(api: Api, phone: str) -> list[str]:
    found = await api.data(NOTES, token=await api.token("alpha", phone))
    return [e["node"]["kind"] for e in found["notifications"]["edges"]]


def marker() -> str:
    """A word no other test's guides contain, so searches see only this test's guides."""
    return "zq" + uuid.uuid4().hex[:8]


# --- the normal form ---------------------------------------------------------------------------


def test_search_terms_are_normalised_for_width_and_case() -> None:
    assert searchable("ＩＤ卡 Ｈｅｌｌｏ") == "id卡 hello"
    assert search_terms("  居住证   ＡＢＣ 居住证 ") == ["居住证", "abc"]
    assert search_document("标题", ["简介", "", "材料"]) == "标题\n简介\n材料"


# --- writing guides ------------------------------------------------------------------------------


async def test_a_tenant_admin_writes_a_draft_that_only_editors_see_until_it_is_published(
    api: Api, alpha: TenantHandle
) -> None:
    tag = marker()
    guide_id = await created(api, publish=False, title=f"草稿指南{tag}")
    anonymous = await api.data(SEARCH, {"search": tag}, tenant="alpha")
    assert anonymous["serviceGuides"]["totalCount"] == 0
    node = "query($id: ID!) { node(id: $id) { ... on ServiceGuide { title status } } }"
    assert (await api.data(node, {"id": guide_id}, tenant="alpha"))["node"] is None
    admin = await api.token("alpha", TENANT_ADMIN)
    assert (await api.data(node, {"id": guide_id}, token=admin))["node"]["status"] == "DRAFT"
    await api.data(PUBLISH, {"input": {"guideId": guide_id}}, token=admin)
    assert (await api.data(SEARCH, {"search": tag}, tenant="alpha"))["serviceGuides"]["totalCount"] == 1


async def test_an_edit_is_a_new_version_readers_see_only_once_published(api: Api, alpha: TenantHandle) -> None:
    tag = marker()
    guide_id = await created(api, title=f"原标题{tag}")
    admin = await api.token("alpha", TENANT_ADMIN)
    edited = (
        await api.data(UPDATE, {"input": {"guideId": guide_id, "guide": content(title=f"新标题{tag}")}}, token=admin)
    )["updateServiceGuide"]
    assert edited["guide"]["version"] == 2 and edited["guide"]["hasUnpublishedChanges"] is True
    assert edited["guide"]["viewerCan"] == {"update": True, "publish": True, "unpublish": True}
    read = "query($id: ID!) { serviceGuide(id: $id) { title version } }"
    assert (await api.data(read, {"id": guide_id}, tenant="alpha"))["serviceGuide"] == {
        "title": f"原标题{tag}",
        "version": 1,
    }
    published = (await api.data(PUBLISH, {"input": {"guideId": guide_id}}, token=admin))["publishServiceGuide"]
    assert published["guide"]["viewerCan"]["publish"] is False
    again = (await api.data(PUBLISH, {"input": {"guideId": guide_id}}, token=admin))["publishServiceGuide"]
    assert again["errors"][0]["code"] == "INVALID_TRANSITION"
    assert (await api.data(read, {"id": guide_id}, tenant="alpha"))["serviceGuide"] == {
        "title": f"新标题{tag}",
        "version": 2,
    }
    versions = await api.data(
        "query($id: ID!) { serviceGuide(id: $id) { versions(first: 10) { totalCount edges { node { number published } } } } }",
        {"id": guide_id},
        token=admin,
    )
    assert [e["node"] for e in versions["serviceGuide"]["versions"]["edges"]] == [
        {"number": 1, "published": False},
        {"number": 2, "published": True},
    ]
    reader = await api.data(
        "query($id: ID!) { serviceGuide(id: $id) { versions { totalCount } } }", {"id": guide_id}, tenant="alpha"
    )
    assert reader["serviceGuide"]["versions"] is None
    down = (await api.data(UNPUBLISH, {"input": {"guideId": guide_id}}, token=admin))["unpublishServiceGuide"]
    assert down["guide"]["status"] == "UNPUBLISHED"
    assert (await api.data(read, {"id": guide_id}, tenant="alpha"))["serviceGuide"] is None


async def test_a_guide_is_checked_whole_and_nothing_is_written_on_failure(api: Api, alpha: TenantHandle) -> None:
    admin = await api.token("alpha", TENANT_ADMIN)
    bad = content(title="证", materials=[], phone="call me", timeLimitDays=0)
    made = (await api.data(CREATE, {"input": {"kind": "TWO_LEVEL", "guide": bad}}, token=admin))["createServiceGuide"]
    assert made["guide"] is None
    assert {e["field"] for e in made["errors"]} == {
        "guide.title",
        "guide.materials",
        "guide.phone",
        "guide.timeLimitDays",
    }
    no_department = (await api.data(CREATE, {"input": {"kind": "THREE_LEVEL", "guide": content()}}, token=admin))[
        "createServiceGuide"
    ]
    assert no_department["errors"][0]["field"] == "departmentId"
    stray = {"kind": "POLICY", "guide": content(), "departmentId": await justice(api)}
    assert (await api.data(CREATE, {"input": stray}, token=admin))["createServiceGuide"]["errors"][0][
        "field"
    ] == "departmentId"
    twice = content(materials=["户口簿", "户口簿"])
    duplicate = (await api.data(CREATE, {"input": {"kind": "POLICY", "guide": twice}}, token=admin))[
        "createServiceGuide"
    ]
    assert duplicate["errors"][0]["code"] == "DUPLICATE"


async def test_text_fields_are_plain_text_kept_as_written(api: Api, alpha: TenantHandle) -> None:
    payload = '<img src=x onerror="alert(1)"><script>alert(document.cookie)</script>'
    guide_id = await created(api, kind="POLICY", title="政策<b>解读</b>", summary=payload)
    read = await api.data(
        "query($id: ID!) { serviceGuide(id: $id) { title summary } }", {"id": guide_id}, tenant="alpha"
    )
    assert read["serviceGuide"] == {"title": "政策<b>解读</b>", "summary": payload}


@pytest.mark.parametrize(
    ("tenant", "phone", "code"),
    [
        ("alpha", COMMUNITY_ADMIN, "FORBIDDEN"),
        ("alpha", WORKER_1, "FORBIDDEN"),
        ("alpha", STAFF, "FORBIDDEN"),
        ("beta", TENANT_ADMIN, "NOT_FOUND"),
    ],
)
async def test_only_the_street_offices_tenant_admins_edit_its_guides(
    api: Api, alpha: TenantHandle, tenant: str, phone: str, code: str
) -> None:
    guide_id = await created(api)
    token = await api.token(tenant, phone)
    edited = await api.data(UPDATE, {"input": {"guideId": guide_id, "guide": content(title="改")}}, token=token)
    assert edited["updateServiceGuide"]["errors"][0]["code"] in (code, "INVALID")
    unpublished = (await api.data(UNPUBLISH, {"input": {"guideId": guide_id}}, token=token))["unpublishServiceGuide"]
    assert unpublished["errors"][0]["code"] == code
    if tenant == "beta":
        read = "query($id: ID!) { serviceGuide(id: $id) { title } }"
        assert (await api.data(read, {"id": guide_id}, token=token))["serviceGuide"] is None


async def test_anonymous_callers_must_name_the_street_office(api: Api) -> None:
    body = await api.run("{ serviceGuides(first: 1) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "TENANT_REQUIRED"


# --- search --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def catalogue(api: Api, alpha: TenantHandle) -> dict[str, Any]:
    """Guides sharing one marker word, so the cases below see only them."""
    tag = marker()
    admin = await api.token("alpha", TENANT_ADMIN)
    ids = {}
    for name, kind, title, summary in (
        ("in_summary", "COMMUNITY_DIRECT", f"流动人口登记{tag}", "办理居住证需要先进行居住登记。"),
        ("in_title", "POLICY", f"居住证申领政策{tag}", "持证人可享受的基本公共服务。"),
        ("elsewhere", "OTHER", f"养老保险{tag}", "城乡居民基本养老保险参保缴费（ＩＤ卡可用）。"),
        ("percent", "OTHER", f"医保报销{tag}", "报销比例为50%_起。"),
    ):
        guide = content(
            title=title, summary=summary, conditions="符合相关规定。", materials=["身份证"] if kind != "POLICY" else []
        )
        made = await api.data(CREATE, {"input": {"kind": kind, "guide": guide}}, token=admin)
        ids[name] = made["createServiceGuide"]["guide"]["id"]
        await api.data(PUBLISH, {"input": {"guideId": ids[name]}}, token=admin)
    return {"tag": tag, "ids": ids}


async def found(api: Api, search: str, **extra: Any) -> list[str]:
    page = await api.data(SEARCH, {"search": search, "first": 50, **extra}, tenant="alpha")
    return [e["node"]["id"] for e in page["serviceGuides"]["edges"]]


async def test_a_chinese_word_is_found_inside_a_sentence_title_hits_first(api: Api, catalogue: dict[str, Any]) -> None:
    ids, tag = catalogue["ids"], catalogue["tag"]
    assert await found(api, f"居住证 {tag}") == [ids["in_title"], ids["in_summary"]]
    assert await found(api, f"{tag} 居住登记") == [ids["in_summary"]]
    assert await found(api, f"{tag} 居住证 养老") == []


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("居住", ["in_title", "in_summary"]),  # two characters: below a trigram, matched all the same
        ("保", ["elsewhere", "percent"]),  # one character
        ("养老保险", ["elsewhere"]),
        ("id卡", ["elsewhere"]),  # full-width ＩＤ in the text
        ("ＩＤ", ["elsewhere"]),
        ("50%_", ["percent"]),  # LIKE's wildcards are plain characters here
        ("%", ["percent"]),
        ("_", ["percent"]),
        ('"居住', []),
        ("居住证明书", []),
    ],
)
async def test_every_term_length_behaves_alike_on_both_databases(
    api: Api, catalogue: dict[str, Any], words: str, expected: list[str]
) -> None:
    ids = catalogue["ids"]
    assert sorted(await found(api, f"{catalogue['tag']} {words}")) == sorted(ids[name] for name in expected)


async def test_search_filters_by_kind_pages_and_refuses_long_queries(api: Api, catalogue: dict[str, Any]) -> None:
    ids, tag = catalogue["ids"], catalogue["tag"]
    assert await found(api, tag, kind="OTHER") == [ids["elsewhere"], ids["percent"]]
    first = await api.data(SEARCH, {"search": f"居住 {tag}", "first": 1}, tenant="alpha")
    assert first["serviceGuides"]["totalCount"] == 2 and first["serviceGuides"]["pageInfo"]["hasNextPage"]
    after = first["serviceGuides"]["pageInfo"]["endCursor"]
    second = await api.data(SEARCH, {"search": f"居住 {tag}", "first": 1, "after": after}, tenant="alpha")
    assert [e["node"]["id"] for e in second["serviceGuides"]["edges"]] == [ids["in_summary"]]
    too_long = await api.run(SEARCH, {"search": "居" * 51}, tenant="alpha")
    assert too_long["errors"][0]["extensions"]["code"] == "INVALID"


async def test_listing_guides_costs_the_same_statements_whatever_the_page_size(
    api: Api, catalogue: dict[str, Any]
) -> None:
    query = """query($n: Int!, $search: String) { serviceGuides(first: $n, search: $search) { totalCount edges { node {
        id title materials department { name } viewerCan { publish } canApply
        versions(first: 5) { totalCount edges { node { number } } } } } } }"""

    async def statements(n: int, token: str | None, search: str | None) -> int:
        return await api.statements(query, {"n": n, "search": search}, token=token, tenant=None if token else "alpha")

    admin = await api.token("alpha", TENANT_ADMIN)
    one, four = {}, {}
    for who, token in {"anonymous": None, "admin": admin}.items():
        await statements(1, token, None)  # a first request may fill caches (the session, the tenant)
        for search in (None, f"保 {catalogue['tag']}", f"居住证 {catalogue['tag']}"):
            one[who, search] = await statements(1, token, search)
            four[who, search] = await statements(4, token, search)
    assert one == four


# --- applications --------------------------------------------------------------------------------


async def test_a_community_certificate_passes_one_level_and_its_certificate_is_checked_by_anyone(
    api: Api, alpha: TenantHandle, beta: TenantHandle
) -> None:
    guide_id = await created(api, title="居住证明")
    phone = await resident(api, alpha)
    made = await applied(api, phone, guide_id)
    assert made["errors"] == [], made
    application = made["application"]
    assert application["status"] == "IN_REVIEW" and application["level"] == "COMMUNITY"
    assert application["reviewLevels"] == ["COMMUNITY"]
    assert application["dueAt"] == "2026-12-04T17:00:00+08:00"  # three working days, to the close of the third
    assert application["viewerCan"]["withdraw"] is True and application["viewerCan"]["approve"] is False
    assert "SERVICE_APPLICATION_NEW" in await kinds_told(api, COMMUNITY_ADMIN)
    forwarded = await step(api, FORWARD, COMMUNITY_ADMIN, application["id"])
    assert forwarded["errors"][0]["code"] == "INVALID_TRANSITION"
    done = await step(api, APPROVE, COMMUNITY_ADMIN, application["id"], note="情况属实")
    assert done["errors"] == [] and done["application"]["status"] == "APPROVED"
    certificate = done["application"]["certificate"]
    assert certificate["title"] == "居住证明" and certificate["holderName"] == "王小明"
    assert certificate["issuer"] == "阿尔法街道东风社区居民委员会"
    assert "SERVICE_APPLICATION_STATUS" in await kinds_told(api, phone)

    pdf = await api.client.get(certificate["pdfUrl"].removeprefix("http://testserver"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"/FontFile2" in pdf.content  # the Chinese font, embedded
    words = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert all(
        part in words for part in ("居住证明", "王小明", certificate["issuer"], f"核验码：{certificate['code']}")
    ), words

    genuine = (await api.data(VERIFY, {"code": certificate["code"].lower().replace("-", " ")}, tenant="alpha"))[
        "verifyCertificate"
    ]
    assert genuine == {
        "genuine": True,
        "code": certificate["code"],
        "title": "居住证明",
        "holder": "王*明",
        "issuer": "阿尔法街道东风社区居民委员会",
        "issuedAt": "2026-12-01T09:00:00+08:00",
        "revoked": False,
    }
    forged = certificate["code"][:-1] + ("A" if certificate["code"][-1] != "A" else "B")
    assert (await api.data(VERIFY, {"code": forged}, tenant="alpha"))["verifyCertificate"]["genuine"] is False
    assert (await api.data(VERIFY, {"code": certificate["code"]}, tenant="beta"))["verifyCertificate"] == {
        "genuine": False,
        "code": None,
        "title": None,
        "holder": None,
        "issuer": None,
        "issuedAt": None,
        "revoked": None,
    }
    refused = await step(api, REVOKE, phone, application["id"], reason="信息有误")
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    revoked = await step(api, REVOKE, COMMUNITY_ADMIN, application["id"], reason="居住信息有误")
    assert revoked["application"]["status"] == "REVOKED"
    assert revoked["application"]["certificate"]["revokedAt"] == "2026-12-01T09:00:00+08:00"
    assert (await api.data(VERIFY, {"code": certificate["code"]}, tenant="alpha"))["verifyCertificate"][
        "revoked"
    ] is True


async def test_two_approvals_at_once_issue_one_certificate(api: Api, alpha: TenantHandle) -> None:
    guide_id = await created(api)
    phone = await resident(api, alpha)
    application_id = (await applied(api, phone, guide_id))["application"]["id"]
    await api.token("alpha", COMMUNITY_ADMIN)
    results = await asyncio.gather(*(step(api, APPROVE, COMMUNITY_ADMIN, application_id) for _ in range(4)))
    assert len([r for r in results if not r["errors"]]) == 1
    assert {r["errors"][0]["code"] for r in results if r["errors"]} <= {"CONFLICT", "INVALID_TRANSITION"}
    timeline = await api.data(
        "query($id: ID!) { node(id: $id) { ... on ServiceApplication { timeline(first: 10) { edges { node { action } } } } } }",
        {"id": application_id},
        token=await api.token("alpha", phone),
    )
    assert [e["node"]["action"] for e in timeline["node"]["timeline"]["edges"]] == ["SUBMIT", "APPROVE"]


async def test_the_certificate_is_served_only_to_those_who_see_the_application(api: Api, alpha: TenantHandle) -> None:
    guide_id = await created(api)
    phone = await resident(api, alpha)
    application_id = (await applied(api, phone, guide_id))["application"]["id"]
    await step(api, APPROVE, COMMUNITY_ADMIN, application_id)
    query = "query($id: ID!) { node(id: $id) { ... on ServiceApplication { certificate { pdfUrl } } } }"
    viewers = (phone, COMMUNITY_ADMIN, TENANT_ADMIN)
    served = {}
    for viewer in viewers:
        seen = await api.data(query, {"id": application_id}, token=await api.token("alpha", viewer))
        served[viewer] = seen["node"] and seen["node"]["certificate"]["pdfUrl"].startswith("http://testserver/files/")
    assert served == dict.fromkeys(viewers, True)
    others = (OTHER_COMMUNITY_ADMIN, STAFF, WORKER_1, await resident(api, alpha))
    seen_by_others = {
        other: (await api.data(query, {"id": application_id}, token=await api.token("alpha", other)))["node"]
        for other in others
    }
    assert seen_by_others == dict.fromkeys(others)
    tampered = await api.client.get(f"/files/{alpha.id}/certificates/x.pdf?expires=9999999999&signature=00")
    assert tampered.status_code == 404


async def test_a_three_level_approval_passes_community_street_office_and_the_named_department(
    api: Api, alpha: TenantHandle
) -> None:
    guide_id = await created(api, kind="THREE_LEVEL", title="法律援助申请", timeLimitDays=10)
    phone = await resident(api, alpha)
    application_id = (await applied(api, phone, guide_id))["application"]["id"]
    # Each level acts only when the application is at its level.
    assert (await step(api, FORWARD, TENANT_ADMIN, application_id))["errors"][0]["code"] == "FORBIDDEN"
    assert (await step(api, FORWARD, STAFF, application_id))["errors"][0]["code"] == "NOT_FOUND"
    assert (await step(api, FORWARD, OTHER_COMMUNITY_ADMIN, application_id))["errors"][0]["code"] == "NOT_FOUND"
    first = await step(api, FORWARD, COMMUNITY_ADMIN, application_id, note="材料齐全")
    assert first["application"]["level"] == "STREET_OFFICE"
    assert first["application"]["viewerCan"]["forward"] is False
    second = await step(api, FORWARD, TENANT_ADMIN, application_id)
    assert second["application"]["level"] == "DEPARTMENT"
    assert (await step(api, APPROVE, OTHER_STAFF, application_id))["errors"][0]["code"] == "NOT_FOUND"
    assert (await step(api, APPROVE, TENANT_ADMIN, application_id))["errors"][0]["code"] == "FORBIDDEN"
    queue = await api.data(
        "{ serviceApplications(first: 100, filter: {awaitingMyReview: true}) { edges { node { id viewerCan { approve forward } } } } }",
        token=await api.token("alpha", STAFF),
    )
    assert {"id": application_id, "viewerCan": {"approve": True, "forward": False}} in [
        e["node"] for e in queue["serviceApplications"]["edges"]
    ]
    done = await step(api, APPROVE, STAFF, application_id)
    assert done["application"]["status"] == "APPROVED" and done["application"]["certificate"] is None
    timeline = await api.data(
        "query($id: ID!) { node(id: $id) { ... on ServiceApplication { timeline(first: 10) { edges { node { action level actorName } } } } } }",
        {"id": application_id},
        token=await api.token("alpha", phone),
    )
    assert [(e["node"]["action"], e["node"]["level"]) for e in timeline["node"]["timeline"]["edges"]] == [
        ("SUBMIT", "COMMUNITY"),
        ("FORWARD", "COMMUNITY"),
        ("FORWARD", "STREET_OFFICE"),
        ("APPROVE", "DEPARTMENT"),
    ]
    told = await kinds_told(api, phone)
    assert told.count("SERVICE_APPLICATION_STATUS") >= 3


async def test_returned_for_material_the_resident_resubmits_to_the_same_level(
    api: Api, alpha: TenantHandle, clock: Clock
) -> None:
    guide_id = await created(api, kind="TWO_LEVEL", title="困难救助申请")
    phone = await resident(api, alpha)
    token = await api.token("alpha", phone)
    application_id = (await applied(api, phone, guide_id))["application"]["id"]
    await step(api, FORWARD, COMMUNITY_ADMIN, application_id)
    vague = await step(api, SEND_BACK, TENANT_ADMIN, application_id, reason="")
    assert vague["errors"][0]["field"] == "reason"
    returned = await step(api, SEND_BACK, TENANT_ADMIN, application_id, reason="户口簿照片不清晰，请重新拍摄")
    assert returned["application"]["status"] == "RETURNED"
    assert returned["application"]["reason"] == "户口簿照片不清晰，请重新拍摄"
    assert "户口簿照片不清晰" in str((await api.data(NOTES, token=token))["notifications"])
    nothing = await step(api, RESUBMIT, phone, application_id, materials=[])
    assert nothing["errors"][0]["field"] == "materials"
    wrong = await step(
        api,
        RESUBMIT,
        phone,
        application_id,
        materials=[{"material": "结婚证", "attachmentIds": [await upload(api, token)]}],
    )
    assert wrong["errors"][0]["field"] == "materials.0.material"
    with clock.at(NOW + timedelta(days=1)):  # Wednesday: the three working days count from here
        retaken = await upload(api, await api.token("alpha", phone))
        again = await step(
            api,
            RESUBMIT,
            phone,
            application_id,
            note="已重新拍摄",
            materials=[{"material": "户口簿", "attachmentIds": [retaken]}],
        )
    assert again["errors"] == [] and again["application"]["status"] == "IN_REVIEW"
    assert again["application"]["level"] == "STREET_OFFICE" and again["application"]["reason"] is None
    assert again["application"]["dueAt"] == "2026-12-07T17:00:00+08:00"
    files = await api.data(
        "query($id: ID!) { node(id: $id) { ... on ServiceApplication { materials { name files { url } } } } }",
        {"id": application_id},
        token=await api.token("alpha", TENANT_ADMIN),
    )
    assert [(m["name"], len(m["files"])) for m in files["node"]["materials"]] == [("居民身份证", 1), ("户口簿", 2)]
    rejected = await step(api, REJECT, TENANT_ADMIN, application_id, reason="不符合救助条件")
    assert rejected["application"]["status"] == "REJECTED"
    assert (await step(api, WITHDRAW, phone, application_id))["errors"][0]["code"] == "INVALID_TRANSITION"


async def test_an_application_carries_every_required_material(api: Api, alpha: TenantHandle) -> None:
    guide_id = await created(api, kind="COMMUNITY_DIRECT")
    phone = await resident(api, alpha)
    token = await api.token("alpha", phone)
    one = await files_for(api, token, ["居民身份证"])
    missing = (
        await api.data(APPLY, {"input": {"guideId": guide_id, "purpose": "办理", "materials": one}}, token=token)
    )["applyForService"]
    assert missing["errors"][0]["field"] == "materials" and "户口簿" in missing["errors"][0]["message"]
    stolen = await upload(api, await api.token("alpha", await resident(api, alpha)))
    theirs = [{"material": "居民身份证", "attachmentIds": [stolen]}, *await files_for(api, token, ["户口簿"])]
    refused = (
        await api.data(APPLY, {"input": {"guideId": guide_id, "purpose": "办理", "materials": theirs}}, token=token)
    )["applyForService"]
    assert (
        refused["errors"][0]["field"] == "materials.0.attachmentIds.0" and refused["errors"][0]["code"] == "NOT_FOUND"
    )
    # Nothing was claimed by the failed attempts: the uploads can still be named.
    made = (
        await api.data(
            APPLY, {"input": {"guideId": guide_id, "purpose": "办理", "materials": [*one, *theirs[1:]]}}, token=token
        )
    )["applyForService"]
    assert made["errors"] == []
    policy = await created(api, kind="POLICY")
    not_online = await api.data(APPLY, {"input": {"guideId": policy, "purpose": "办理", "materials": []}}, token=token)
    assert not_online["applyForService"]["errors"][0]["code"] == "INVALID"


@pytest.mark.parametrize("phone", [COMMUNITY_ADMIN, TENANT_ADMIN, WORKER_1, STAFF])
async def test_only_residents_apply(api: Api, alpha: TenantHandle, phone: str) -> None:
    guide_id = await created(api, kind="COMMUNITY_DIRECT")
    body = await api.data(
        APPLY,
        {"input": {"guideId": guide_id, "purpose": "办理", "materials": []}},
        token=await api.token("alpha", phone),
    )
    assert body["applyForService"]["errors"][0]["code"] == "FORBIDDEN"


async def test_applications_are_seen_by_their_resident_and_reviewers_only(api: Api, alpha: TenantHandle) -> None:
    guide_id = await created(api, kind="THREE_LEVEL")
    phone = await resident(api, alpha)
    application_id = (await applied(api, phone, guide_id))["application"]["id"]
    query = "query($id: ID!) { node(id: $id) { ... on ServiceApplication { id applicant { name phone } } } }"

    async def sees(tenant: str, who: str) -> bool:
        return (await api.data(query, {"id": application_id}, token=await api.token(tenant, who)))["node"] is not None

    assert await sees("alpha", phone) and await sees("alpha", COMMUNITY_ADMIN) and await sees("alpha", TENANT_ADMIN)
    assert not await sees("alpha", STAFF)  # not yet at the department
    assert not await sees("alpha", OTHER_COMMUNITY_ADMIN) and not await sees("alpha", WORKER_1)
    assert not await sees("alpha", await resident(api, alpha))
    assert not await sees("beta", TENANT_ADMIN)
    await step(api, FORWARD, COMMUNITY_ADMIN, application_id)
    await step(api, FORWARD, TENANT_ADMIN, application_id)
    assert await sees("alpha", STAFF) and not await sees("alpha", OTHER_STAFF)
    listed = await api.data(
        "{ serviceApplications(first: 100) { edges { node { id } } } }", token=await api.token("beta", TENANT_ADMIN)
    )
    assert application_id not in [e["node"]["id"] for e in listed["serviceApplications"]["edges"]]


async def test_past_its_time_limit_an_application_is_supervised_once_per_level(
    api: Api, app: Any, alpha: TenantHandle, clock: Clock
) -> None:
    from server.jobs import run_jobs

    guide_id = await created(api, kind="TWO_LEVEL", timeLimitDays=1)
    phone = await resident(api, alpha)
    application_id = (await applied(api, phone, guide_id))["application"]["id"]
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    query = "query($id: ID!) { node(id: $id) { ... on ServiceApplication { overdue dueAt timeline(first: 20) { edges { node { action } } } } } }"
    assert (await api.data(query, {"id": application_id}, token=admin))["node"]["dueAt"] == "2026-12-02T17:00:00+08:00"
    with clock.at(NOW + timedelta(days=2)):
        late = await api.data(
            "{ serviceApplications(first: 100, filter: {overdue: true}) { edges { node { id overdue } } } }",
            token=await api.token("alpha", COMMUNITY_ADMIN),
        )
        assert {"id": application_id, "overdue": True} in [e["node"] for e in late["serviceApplications"]["edges"]]
        await run_jobs(app.state.services)
        await run_jobs(app.state.services)
        seen = await api.data(query, {"id": application_id}, token=await api.token("alpha", COMMUNITY_ADMIN))
        actions = [e["node"]["action"] for e in seen["node"]["timeline"]["edges"]]
        assert actions.count("MARK_OVERDUE") == 1
        assert "SERVICE_APPLICATION_OVERDUE" in await kinds_told(api, COMMUNITY_ADMIN)
        await step(api, FORWARD, COMMUNITY_ADMIN, application_id)
        await run_jobs(app.state.services)
        seen = await api.data(query, {"id": application_id}, token=await api.token("alpha", TENANT_ADMIN))
        assert [e["node"]["action"] for e in seen["node"]["timeline"]["edges"]].count("MARK_OVERDUE") == 2


async def test_a_resident_withdraws_an_open_application(api: Api, alpha: TenantHandle) -> None:
    guide_id = await created(api, kind="COMMUNITY_DIRECT")
    phone = await resident(api, alpha)
    application_id = (await applied(api, phone, guide_id))["application"]["id"]
    assert (await step(api, WITHDRAW, COMMUNITY_ADMIN, application_id))["errors"][0]["code"] == "FORBIDDEN"
    done = await step(api, WITHDRAW, phone, application_id, reason="已在窗口办理")
    assert done["application"]["status"] == "WITHDRAWN"
    assert (await step(api, APPROVE, COMMUNITY_ADMIN, application_id))["errors"][0]["code"] == "INVALID_TRANSITION"


async def test_listing_applications_costs_the_same_statements_whatever_the_page_size(
    api: Api, alpha: TenantHandle
) -> None:
    guide_id = await created(api)
    phone = await resident(api, alpha)
    for _ in range(3):
        application_id = (await applied(api, phone, guide_id))["application"]["id"]
    await step(api, APPROVE, COMMUNITY_ADMIN, application_id)
    query = """query($n: Int!) { serviceApplications(first: $n) { totalCount edges { node {
        id status guideTitle applicant { name phone } guide { title } materials { name files { url } }
        certificate { code pdfUrl } viewerCan { approve forward }
        timeline(first: 5) { totalCount edges { node { action actorName } } } } } } }"""

    async def statements(n: int, token: str) -> int:
        return await api.statements(query, {"n": n}, token=token)

    one, three = {}, {}
    for who in (phone, COMMUNITY_ADMIN, TENANT_ADMIN):
        token = await api.token("alpha", who)
        await statements(1, token)  # a first request may fill caches (the session, the tenant)
        one[who], three[who] = await statements(1, token), await statements(3, token)
    assert one == three


# --- viewerCan -----------------------------------------------------------------------------------

WALK_STATES: dict[str, dict[str, Any]] = {
    "in review at the community": {"status": ApplicationStatus.IN_REVIEW, "level": ReviewLevel.COMMUNITY, "reached": 1},
    "in review at the street office": {
        "status": ApplicationStatus.IN_REVIEW,
        "level": ReviewLevel.STREET_OFFICE,
        "reached": 2,
    },
    "in review at the department": {
        "status": ApplicationStatus.IN_REVIEW,
        "level": ReviewLevel.DEPARTMENT,
        "reached": 3,
    },
    "returned by the street office": {
        "status": ApplicationStatus.RETURNED,
        "level": ReviewLevel.STREET_OFFICE,
        "reached": 2,
    },
    "rejected by the department": {"status": ApplicationStatus.REJECTED, "level": ReviewLevel.DEPARTMENT, "reached": 3},
    "approved": {"status": ApplicationStatus.APPROVED, "level": ReviewLevel.DEPARTMENT, "reached": 3},
    "withdrawn": {"status": ApplicationStatus.WITHDRAWN, "level": ReviewLevel.COMMUNITY, "reached": 1},
}


def walk_inputs(application_id: str, uploads: list[str]) -> dict[str, Callable[[str], dict[str, Any]]]:
    step = {"applicationId": application_id}
    return {
        "forwardServiceApplication": lambda _: step,
        "approveServiceApplication": lambda _: step,
        "sendBackServiceApplication": lambda _: {**step, "reason": "请补充材料"},
        "rejectServiceApplication": lambda _: {**step, "reason": "不符合条件"},
        "resubmitServiceApplication": lambda _: {
            **step,
            "materials": [{"material": "户口簿", "attachmentIds": [uploads.pop()]}],
        },
        "withdrawServiceApplication": lambda _: step,
        "revokeServiceCertificate": lambda _: {**step, "reason": "信息有误"},
    }


@pytest.mark.parametrize("state", WALK_STATES)
async def test_an_applications_viewer_can_is_what_its_mutations_accept(
    state: str, api: Api, app: Starlette, alpha: TenantHandle
) -> None:
    guide_id = await created(api, kind="THREE_LEVEL")
    phone = await resident(api, alpha)
    application_id = (await applied(api, phone, guide_id))["application"]["id"]
    token = await api.token("alpha", phone)
    uploads = [await upload(api, token) for _ in range(5)]
    walk = Walk(
        api, app, alpha.id, ServiceApplication, application_id, APPLICATION_CAN, walk_inputs(application_id, uploads)
    )
    roles = {"resident": phone, "community admin": COMMUNITY_ADMIN, "tenant admin": TENANT_ADMIN}
    if WALK_STATES[state]["reached"] == 3:
        roles["department"] = STAFF
    await walk.check(WALK_STATES[state], roles)


@pytest.mark.parametrize("status", [ApplicationStatus.APPROVED, ApplicationStatus.REVOKED])
async def test_a_certificates_viewer_can_is_what_its_mutations_accept(
    status: ApplicationStatus, api: Api, app: Starlette, alpha: TenantHandle
) -> None:
    guide_id = await created(api)
    phone = await resident(api, alpha)
    application_id = (await applied(api, phone, guide_id))["application"]["id"]
    assert (await step(api, APPROVE, COMMUNITY_ADMIN, application_id))["errors"] == []
    token = await api.token("alpha", phone)
    uploads = [await upload(api, token) for _ in range(3)]
    walk = Walk(
        api, app, alpha.id, ServiceApplication, application_id, APPLICATION_CAN, walk_inputs(application_id, uploads)
    )
    roles = {"resident": phone, "community admin": COMMUNITY_ADMIN, "tenant admin": TENANT_ADMIN}
    await walk.check({"status": status}, roles)


def test_certificates_made_at_once_in_many_threads_are_all_made() -> None:
    """Approvals render in threads, monthly reports too, with one font registered per process:
    made at once, every one is made. (Without one PDF at a time, about one rendering in seventy
    failed, two threads reading the font file through its one shared position.)"""

    def made(number: int) -> bytes:
        return render_certificate(
            CertificateText(
                "居住证明",
                f"王小明{number}",
                f"兹证明王小明{number}自二〇二〇年起居住在本社区幸福里{number}号楼。" * 3,
                "万青路街道青年路社区居民委员会",
                datetime(2026, 1, 2, tzinfo=UTC),
                f"ABCD-{number:04d}",
                f"https://wanjia.example/certificates/check?code={number}",
            )
        )

    with ThreadPoolExecutor(8) as threads:
        pdfs = list(threads.map(made, range(120)))
    assert all(pdf.startswith(b"%PDF") for pdf in pdfs)
