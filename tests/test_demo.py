"""`wanjia demo` loads on both databases, covers every state, and the README's accounts work."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from models.calendar import SHANGHAI
from models.database import create_engine
from server.app import create_app
from tenants.demo import DEMO_PASSWORD, load_demo
from tenants.manifests import MANIFESTS_DIR, load_manifest
from tests.conftest import settings_for
from tests.media_files import photo
from tests.provision import DATABASE_NAME, ProvisionedDatabase, clone, drop
from tests.support import TEXTS, Api, CapturedTexts, Clock, frontend_installed, served

README = Path(__file__).resolve().parent.parent / "README.md"
DEMO_LEADER = "13704720009"  # the building leader of the README's resident's building
COMMUNITY_LIFE = {
    "<ComplaintCategory id>",
    "<Resident id of 13800138000>",
    "<Building id of 13800138000>",
    "<Notice id asking 13800138000 for 已阅>",
    "<Resident id of 13704720009>",
    "<Building id next to 13800138000's>",
}


@pytest.fixture(scope="module")
async def demo_app(
    database: ProvisionedDatabase, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[ProvisionedDatabase, Starlette]]:
    """A database with `wanjia demo` loaded, and the app over it: a clone of the session's
    migrated template, as `wanjia migrate` would have left it."""
    assert database.template is not None
    demo = clone(database.template, f"{DATABASE_NAME}_demo", tmp_path_factory.mktemp("demo"))
    app = create_app(
        settings_for(demo.app_url, upload_dir=tmp_path_factory.mktemp("demo-uploads")),
        clock=Clock().now,
        phone_code_sender=TEXTS,
    )
    services = app.state.services
    await load_demo(services)
    services.directory.forget()
    if demo.backend == "postgresql":
        # Statistics, as autovacuum gathers them a minute after a load: without any, the planner
        # guesses, and one guess (counting the residents awaiting review) took seconds.
        owner = create_engine(demo.owner_url)
        async with owner.begin() as connection:
            await connection.exec_driver_sql("ANALYZE")
        await owner.dispose()
    yield demo, app
    await app.state.engine.dispose()
    drop(demo)


@pytest.fixture(scope="module")
async def demo_api(demo_app: tuple[ProvisionedDatabase, Starlette]) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=demo_app[1]), base_url="http://testserver"
    ) as client:
        yield Api(client)


def readme_accounts() -> list[tuple[str, str]]:
    """(tenant slug, phone) of every row of the README's demo account table."""
    accounts, slug = [], None
    for line in README.read_text(encoding="utf-8").splitlines():
        row = re.match(r"^\|\s*(?:[^|`]*`(?P<slug>[a-z-]+)`)?[^|]*\|[^|]*\|\s*(?P<phone>1\d{10})\s*\|$", line)
        if row:
            slug = row.group("slug") or slug
            accounts.append((slug, row.group("phone")))
    return accounts


async def test_every_readme_account_signs_in(demo_api: Api) -> None:
    accounts = readme_accounts()
    assert len(accounts) >= 7
    for slug, phone in accounts:
        result = await demo_api.login(slug, phone, DEMO_PASSWORD)
        assert result["errors"] == [], (slug, phone)


async def test_the_demo_is_shaped_like_the_source_story_and_covers_every_state(demo_api: Api) -> None:
    admin = await demo_api.token("wanqinglu", "13904720001", DEMO_PASSWORD)
    data = await demo_api.data(
        """{ communities(first: 10) { edges { node { grids(first: 100) { edges { cursor } } } } }
             complaintCounts { byStatus { status count } total }
             fromResidents: complaints(first: 1, filter: {sources: [APP]}) { totalCount }
             roomBookings(first: 100) { edges { node { status } } }
             appointments(first: 100) { edges { node { status } } } }""",
        token=admin,
    )
    grids = sum(len(c["node"]["grids"]["edges"]) for c in data["communities"]["edges"])
    assert len(data["communities"]["edges"]) == 7 and grids == 96
    assert {s["status"] for s in data["complaintCounts"]["byStatus"]} == {
        "SUBMITTED",
        "ACCEPTED",
        "IN_PROGRESS",
        "DISPATCHED",
        "RESOLVED",
        "CLOSED",
        "REJECTED",
        "REOPENED",
        "WITHDRAWN",
    }
    # 300 from residents; inspection rounds (tenants/demo_gridwork.py) filed the rest.
    assert data["fromResidents"]["totalCount"] == 300 < data["complaintCounts"]["total"]
    assert {"APPROVED", "PENDING", "COMPLETED"} <= {e["node"]["status"] for e in data["roomBookings"]["edges"]}
    assert {e["node"]["status"] for e in data["appointments"]["edges"]} == {
        "SUBMITTED",
        "ASSIGNED",
        "CONTACTED",
        "SCHEDULED",
        "COMPLETED",
        "CANCELLED",
    }


async def test_the_demo_has_leaders_for_most_buildings_a_dozen_articles_and_read_notices(demo_api: Api) -> None:
    admin = await demo_api.token("wanqinglu", "13904720001", DEMO_PASSWORD)
    data = await demo_api.data(
        """{ buildingLeaders(first: 1) { totalCount }
             articles(first: 100) { edges { node { status pinned } } }
             notices(first: 20) { edges { node { scope readCounts { read } } } } }""",
        token=admin,
    )
    manifest = load_manifest(MANIFESTS_DIR / "wanqinglu.toml")
    buildings = sum(len(grid.buildings) for community in manifest.communities for grid in community.grids)
    assert data["buildingLeaders"]["totalCount"] > buildings / 2
    articles = [e["node"] for e in data["articles"]["edges"]]
    assert len(articles) >= 12 and {"DRAFT", "PUBLISHED", "WITHDRAWN"} == {a["status"] for a in articles}
    assert any(a["pinned"] for a in articles)
    notices = [e["node"] for e in data["notices"]["edges"]]
    assert {"STREET", "COMMUNITY", "GRIDS", "BUILDINGS"} <= {n["scope"] for n in notices}
    assert all(n["readCounts"]["read"] > 0 for n in notices)


@dataclass(frozen=True)
class Example:
    """A GraphQL block of the README: who runs it (a demo phone, or None for anonymous), the
    codes its comment says it answers (user errors it may carry), and the operation."""

    phone: str | None
    answers: frozenset[str]
    document: str
    title: str


def readme_examples() -> list[Example]:
    examples = []
    for block in re.findall(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        lines = block.strip().splitlines()
        comments = "\n".join(line for line in lines if line.startswith("#"))
        role = re.match(r"# (?:as (\d{11})|anonymous)", lines[0])
        assert role, f"a README example must name who runs it on its first line: {lines[0]}"
        examples.append(
            Example(
                phone=role.group(1),
                answers=frozenset(re.findall(r"answers ([A-Z_]+)", comments)),
                document="\n".join(line for line in lines if not line.startswith("#")),
                title=lines[0],
            )
        )
    return examples


class Walkthrough:
    """The README's examples, run in order as a front end would: each `<…>` looked up by the
    caller, the tokens and codes an answer gives remembered for the next example."""

    def __init__(self, api: Api, texts: CapturedTexts) -> None:
        self.api = api
        self.texts = texts
        self.tokens: dict[str, str] = {}  # phone → access token, for accounts made on the way
        self.refresh_token: str | None = None
        self.booking_id: str | None = None
        self.round_id: str | None = None
        self.article_id: str | None = None
        self.leader_id: str | None = None
        self.slot: dict[str, str] | None = None
        self.today = datetime.now(UTC).astimezone(SHANGHAI).date()
        self.looked_up: dict[tuple[str, str | None, str], dict[str, Any]] = {}  # this example's

    async def caller(self, phone: str | None) -> dict[str, str]:
        if phone is None:
            return {"tenant": "wanqinglu"}
        if phone in self.tokens:
            return {"token": self.tokens[phone]}
        return {"token": await self.api.token("wanqinglu", phone, DEMO_PASSWORD)}

    async def ask(self, query: str, phone: str | None, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """A look-up, asked once per example: nothing changes between the placeholders of one
        example, so a second placeholder answered by the same look-up reads the first answer."""
        key = (query, phone, json.dumps(variables, sort_keys=True))
        if key not in self.looked_up:
            self.looked_up[key] = await self.api.data(query, variables, **await self.caller(phone))
        return self.looked_up[key]

    async def value(self, placeholder: str, example: Example) -> str:
        phone_in_input = re.search(r'phone: "(\d{11})"', example.document)
        match placeholder:
            case "<the code>":
                assert phone_in_input
                return self.texts.latest_code(phone_in_input.group(1))
            case "<a Building id from communities → grids → buildings>" | "<Building id>":
                tree = await self.ask(
                    "{ communities(first: 1) { edges { node { grids(first: 1) { edges { node { buildings(first: 1) { edges { node { id } } } } } } } } } }",
                    None,
                )
                grid = tree["communities"]["edges"][0]["node"]["grids"]["edges"][0]["node"]
                return str(grid["buildings"]["edges"][0]["node"]["id"])
            case "<Resident id>":
                waiting = await self.ask(
                    "{ residentsAwaitingReview(first: 1) { edges { node { id } } } }", example.phone
                )
                return str(waiting["residentsAwaitingReview"]["edges"][0]["node"]["id"])
            case "<refresh token>":
                assert self.refresh_token
                return self.refresh_token
            case "<wx.login code>" | "<ticket>":
                return "from-the-mini-program"
            case "<Complaint id from the inbox>":
                inbox = await self.ask(
                    '{ complaints(first: 20, filter: {statuses: [SUBMITTED], search: "楼道"}) { edges { node { id viewerCan { accept } } } } }',
                    example.phone,
                )
                return str(
                    next(e["node"]["id"] for e in inbox["complaints"]["edges"] if e["node"]["viewerCan"]["accept"])
                )
            case "<today>":
                return self.today.isoformat()
            case "<in 4 days>":
                return (self.today + timedelta(days=4)).isoformat()
            case "<Room id>" | "<a free slot's startsAt>" | "<its endsAt>":
                slot = await self.free_slot(example.phone)
                return slot[placeholder]
            case "<RoomBooking id>":
                assert self.booking_id
                return self.booking_id
            case "<InspectionRound id>":
                assert self.round_id
                return self.round_id
            case "<青年路社区第1网格 Grid id>":
                grids = await self.ask(
                    "{ myWorkday { date } inspectionRounds(first: 1) { edges { node { grid { id name } } } } }",
                    "13904721001",
                )
                return str(grids["inspectionRounds"]["edges"][0]["node"]["grid"]["id"])
            case "<日常巡查 InspectionChecklist id>" | "<its 消防通道 item id>":
                lists = await self.ask(
                    "{ inspectionChecklists(first: 10) { edges { node { id name items { id label } } } } }",
                    "13904721001",
                )
                daily = next(
                    e["node"] for e in lists["inspectionChecklists"]["edges"] if e["node"]["name"] == "日常巡查"
                )
                if placeholder.startswith("<its"):
                    return str(next(i["id"] for i in daily["items"] if i["label"].startswith("消防通道")))
                return str(daily["id"])
            case "<a Building id of their grid>":
                found = await self.ask("{ households(first: 1) { edges { node { building { id } } } } }", example.phone)
                return str(found["households"]["edges"][0]["node"]["building"]["id"])
            case "<Household id>":
                found = await self.ask("{ households(first: 1) { edges { node { id } } } }", example.phone)
                return str(found["households"]["edges"][0]["node"]["id"])
            case "<ComplaintCategory id>":
                found = await self.ask("{ complaintCategories(first: 1) { edges { node { id } } } }", None)
                return str(found["complaintCategories"]["edges"][0]["node"]["id"])
            case "<a month ago>":
                return (datetime.now(UTC) - timedelta(days=30)).astimezone(SHANGHAI).isoformat(timespec="seconds")
            case "<now>":
                return datetime.now(UTC).astimezone(SHANGHAI).isoformat(timespec="seconds")
            case "<Article id>":
                assert self.article_id
                return self.article_id
            case "<BuildingLeader id>":
                assert self.leader_id
                return self.leader_id
        if placeholder in COMMUNITY_LIFE:
            return await self.community_life(placeholder)
        return await self.volunteering(placeholder)

    async def community_life(self, placeholder: str) -> str:
        """Building leaders and notices, looked up as the leader's, the resident's and the
        admin's apps would: the leader's residents (phones masked), the admin's register."""
        match placeholder:
            case "<ComplaintCategory id>":
                found = await self.ask("{ complaintCategories(first: 1) { edges { node { id } } } }", None)
                return str(found["complaintCategories"]["edges"][0]["node"]["id"])
            case "<Resident id of 13800138000>" | "<Building id of 13800138000>":
                mine = await self.ask(
                    """{ myBuildingLeaderships(first: 20) { edges { node { building { id }
                         residents(first: 100) { edges { node { id phone } } } } } } }""",
                    DEMO_LEADER,
                )
                for term in mine["myBuildingLeaderships"]["edges"]:
                    for resident in term["node"]["residents"]["edges"]:
                        if resident["node"]["phone"] == "138****8000":
                            found = resident["node"] if "Resident" in placeholder else term["node"]["building"]
                            return str(found["id"])
            case "<Notice id asking 13800138000 for 已阅>":
                notices = await self.ask(
                    "{ notices(first: 50) { edges { node { id requiresConfirmation viewerConfirmedAt } } } }",
                    "13800138000",
                )
                return str(
                    next(
                        e["node"]["id"]
                        for e in notices["notices"]["edges"]
                        if e["node"]["requiresConfirmation"] and not e["node"]["viewerConfirmedAt"]
                    )
                )
            case "<Resident id of 13704720009>" | "<Building id next to 13800138000's>":
                register = await self.ask(
                    """{ buildingLeaders(first: 60) { edges { node { leader { phone } building { id grid {
                         buildings(first: 10) { edges { node { id } } } } } residents(first: 30) { edges { node { id phone } } } } } } }""",
                    "13904720100",
                )
                terms = [
                    e["node"]
                    for e in register["buildingLeaders"]["edges"]
                    if e["node"]["leader"]["phone"] == DEMO_LEADER
                ]
                led = {term["building"]["id"] for term in terms}
                home = next(
                    t for t in terms if any(r["node"]["phone"] == "13800138000" for r in t["residents"]["edges"])
                )
                if "Resident" in placeholder:
                    return str(
                        next(r["node"]["id"] for r in home["residents"]["edges"] if r["node"]["phone"] == DEMO_LEADER)
                    )
                return str(
                    next(
                        b["node"]["id"]
                        for b in home["building"]["grid"]["buildings"]["edges"]
                        if b["node"]["id"] not in led
                    )
                )
        raise AssertionError(f"the README names {placeholder}, which no front end could look up here")

    async def free_slot(self, phone: str | None) -> dict[str, str]:
        """A slot the resident may book, in a room of 青年路社区 that needs approval."""
        if self.slot is None:
            rooms = await self.ask(
                """query($from: Date!, $to: Date!) { rooms(first: 20) { edges { node { id capacity requiresApproval
                     community { name } freeSlots(fromDate: $from, toDate: $to) { startsAt endsAt } } } } }""",
                phone,
                {"from": self.today.isoformat(), "to": (self.today + timedelta(days=4)).isoformat()},
            )
            room = next(
                e["node"]
                for e in rooms["rooms"]["edges"]
                if e["node"]["community"]["name"] == "青年路社区"
                and e["node"]["requiresApproval"]
                and e["node"]["capacity"] >= 8
                and e["node"]["freeSlots"]
            )
            first = room["freeSlots"][0]
            self.slot = {
                "<Room id>": room["id"],
                "<a free slot's startsAt>": first["startsAt"],
                "<its endsAt>": first["endsAt"],
            }
        return self.slot

    async def volunteering(self, placeholder: str) -> str:
        admin = "13904720100"
        match placeholder:
            case "<badge token>":
                return str((await self.ask("{ myBadges { token } }", "13904721001"))["myBadges"][0]["token"])
            case "<month of the last completed activity>":
                # Not this month: in its first days nobody has served yet.
                completed = await self.ask(
                    "{ volunteerActivities(first: 100, filter: {statuses: [COMPLETED]}) { edges { node { startsAt } } } }",
                    admin,
                )
                last = max(
                    datetime.fromisoformat(e["node"]["startsAt"]) for e in completed["volunteerActivities"]["edges"]
                )
                return last.astimezone(SHANGHAI).strftime("%Y-%m")
            case _ if "Volunteer" not in placeholder and "Community id" not in placeholder:
                return await self.service_guides(placeholder)
        lookups = await self.ask(
            """{ communities(first: 10) { edges { node { id name } } }
                 volunteers(first: 1, filter: {statuses: [PENDING]}) { edges { node { id } } }
                 volunteerActivities(first: 100, filter: {statuses: [PUBLISHED]}) { edges { node { id title community { name } } } } }""",
            admin,
        )

        def community_named(name: str) -> str:
            return str(next(e["node"]["id"] for e in lookups["communities"]["edges"] if e["node"]["name"] == name))

        def activity_of(title: str, community: str) -> str:
            return str(
                next(
                    e["node"]["id"]
                    for e in lookups["volunteerActivities"]["edges"]
                    if e["node"]["title"] == title and (e["node"]["community"] or {}).get("name") == community
                )
            )

        match placeholder:
            case "<青年路社区 Community id>":
                return community_named("青年路社区")
            case "<Volunteer id>":
                return str(lookups["volunteers"]["edges"][0]["node"]["id"])
            case "<青年路社区 理发义剪 VolunteerActivity id>":
                return activity_of("理发义剪", "青年路社区")
            case "<青年路社区 反诈宣传 VolunteerActivity id>":
                return activity_of("反诈宣传进楼栋", "青年路社区")
            case "<VolunteerTeam id>":
                teams = await self.ask(
                    "query($c: ID!) { volunteerTeams(communityId: $c, first: 10) { edges { node { id name } } } }",
                    None,
                    {"c": community_named("青年路社区")},
                )
                return str(
                    next(e["node"]["id"] for e in teams["volunteerTeams"]["edges"] if "红马甲" in e["node"]["name"])
                )
        raise AssertionError(f"the README names {placeholder}, which no front end could look up here")

    async def service_guides(self, placeholder: str) -> str:
        resident, admin = "13800138000", "13904720100"
        match placeholder:
            case "<居住证明 ServiceGuide id>":
                found = await self.ask(
                    '{ serviceGuides(kind: COMMUNITY_CERTIFICATE, search: "居住证明", first: 10) { edges { node { id title } } } }',
                    None,
                )
                return str(
                    next(e["node"]["id"] for e in found["serviceGuides"]["edges"] if e["node"]["title"] == "居住证明")
                )
            case "<a photo's upload id>" | "<another photo's upload id>":
                token = (await self.caller(resident))["token"]
                uploaded = await self.api.upload_ahead("材料.jpg", photo("image/jpeg"), "image/jpeg", token=token)
                return str(uploaded.json()["id"])
            case "<ServiceApplication id from the queue>":
                queue = await self.ask(
                    "{ serviceApplications(first: 1, filter: {awaitingMyReview: true}) { edges { node { id } } } }",
                    admin,
                )
                return str(queue["serviceApplications"]["edges"][0]["node"]["id"])
            case "<a certificate code>":
                issued = await self.ask(
                    "{ serviceApplications(first: 10, filter: {statuses: [APPROVED]}) { edges { node { certificate { code } } } } }",
                    resident,
                )
                return str(
                    next(
                        e["node"]["certificate"]["code"]
                        for e in issued["serviceApplications"]["edges"]
                        if e["node"]["certificate"]
                    )
                )
        raise AssertionError(f"the README names {placeholder}, which no front end could look up here")

    def remember(self, example: Example, data: dict[str, Any]) -> None:
        for payload in data.values():
            if not isinstance(payload, dict):
                continue
            tokens = payload.get("tokens")
            if tokens:
                self.refresh_token = tokens["refreshToken"]
                phone = re.search(r'phone: "(\d{11})"', example.document)
                owner = phone.group(1) if phone else example.phone
                if owner:
                    self.tokens[owner] = tokens["accessToken"]
            if payload.get("booking"):
                self.booking_id = payload["booking"]["id"]
            if (payload.get("round") or {}).get("id"):
                self.round_id = payload["round"]["id"]
            if payload.get("article"):
                self.article_id = payload["article"]["id"]
            if payload.get("leader"):
                self.leader_id = payload["leader"]["id"]

    async def run(self, example: Example) -> dict[str, Any]:
        document = example.document
        self.looked_up.clear()
        for placeholder in dict.fromkeys(re.findall(r"<[^<>\n]+>", document)):
            document = document.replace(placeholder, await self.value(placeholder, example))
        body = await self.api.run(document, **await self.caller(example.phone))
        assert "errors" not in body, (example.title, body)
        data: dict[str, Any] = body["data"]
        for field, payload in data.items():
            if isinstance(payload, dict) and "errors" in payload:
                codes = {e["code"] for e in payload["errors"]}
                assert codes <= example.answers, (example.title, payload)
                assert bool(codes) == bool(example.answers), (example.title, "it says it answers", example.answers)
            if document.lstrip().startswith("query") and isinstance(payload, dict) and "edges" in payload:
                assert payload["edges"], (example.title, f"{field} shows nothing")
        self.remember(example, data)
        return data


async def test_every_graphql_example_of_the_readme_runs_against_the_demo_as_the_role_it_names(
    demo_api: Api,
) -> None:
    examples = readme_examples()
    assert len(examples) >= 30
    walk = Walkthrough(demo_api, TEXTS)
    answers = {example.title: await walk.run(example) for example in examples}
    # The walkthrough's people belong together: the README's resident is in the README's grid
    # worker's grid, whose inbox holds that resident's complaint.
    me = next(a for t, a in answers.items() if "who am I" in t)["me"]
    inbox = next(a for t, a in answers.items() if "the inbox" in t)["complaints"]
    assert me["resident"]["gridWorker"]["phone"].endswith("1001")
    assert me["id"] and any(e["node"]["resident"]["name"] == me["name"] for e in inbox["edges"])


def test_apollo_persisted_queries_and_a_graphql_ws_subscription_work_against_the_served_demo(
    demo_app: tuple[ProvisionedDatabase, Starlette], demo_api: Api, tmp_path: Path
) -> None:
    """tests/frontend/live.mjs, a Node front end, against the demo served by uvicorn on 127.0.0.1."""
    frontend = frontend_installed()
    with served(demo_app[0], tmp_path) as url:
        done = subprocess.run(
            ["node", "live.mjs", url, "wanqinglu", "13904721001", "13800138000", DEMO_PASSWORD],
            cwd=frontend,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stdout + done.stderr


async def test_the_demo_has_the_seeds_sixty_service_guides_and_applications_in_every_state(demo_api: Api) -> None:
    kinds = await demo_api.data(
        """{ policy: serviceGuides(kind: POLICY) { totalCount } direct: serviceGuides(kind: COMMUNITY_DIRECT) { totalCount }
             certificate: serviceGuides(kind: COMMUNITY_CERTIFICATE) { totalCount } two: serviceGuides(kind: TWO_LEVEL) { totalCount }
             three: serviceGuides(kind: THREE_LEVEL) { totalCount } other: serviceGuides(kind: OTHER) { totalCount } }""",
        tenant="qingshanlu",
    )
    assert [kind["totalCount"] for kind in kinds.values()] == [10] * 6
    admin = await demo_api.token("wanqinglu", "13904720001", DEMO_PASSWORD)
    applications = await demo_api.data(
        "{ serviceApplications(first: 100) { edges { node { status level } } } }", token=admin
    )
    states = {(e["node"]["status"], e["node"]["level"]) for e in applications["serviceApplications"]["edges"]}
    assert {status for status, _ in states} == {"IN_REVIEW", "RETURNED", "APPROVED", "REJECTED", "WITHDRAWN", "REVOKED"}
    assert {level for status, level in states if status == "IN_REVIEW"} == {"COMMUNITY", "STREET_OFFICE", "DEPARTMENT"}
