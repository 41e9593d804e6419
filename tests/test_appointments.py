"""Service appointments: a resident asks, an admin triages to staff, the staff member contacts,
schedules and completes; confidential to the resident, the assignee and admins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import COMMUNITY_ADMIN, OTHER_STAFF, STAFF, TENANT_ADMIN, WORKER_1
from tests.support import Api, Clock, TenantHandle, code_of, fresh_phone

FIELDS = "id type { name } description status overdue contactDueAt contactMethod scheduledAt outcome assignee { name } resident { name phone } timeline(first: 20) { edges { node { action actorName note } } }"
PAYLOAD = f"appointment {{ {FIELDS} }} errors {{ field code message }}"


def mutation(name: str, input_type: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {PAYLOAD} }} }}"


@pytest.fixture(scope="module")
async def kinds(api: Api) -> dict[str, str]:
    data = await api.data("{ appointmentTypes(first: 10) { edges { node { id code } } } }", tenant="alpha")
    return {e["node"]["code"]: e["node"]["id"] for e in data["appointmentTypes"]["edges"]}


@pytest.fixture(scope="module")
async def staff_ids(api: Api) -> dict[str, str]:
    data = await api.data(
        "{ staffMembers(first: 10) { edges { node { id name } } } }", token=await api.token("alpha", TENANT_ADMIN)
    )
    return {e["node"]["name"]: e["node"]["id"] for e in data["staffMembers"]["edges"]}


async def ask(
    api: Api, alpha: TenantHandle, kinds: dict[str, str], kind: str = "mediation"
) -> tuple[str, dict[str, Any]]:
    phone = fresh_phone()
    await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], name="孙女士", phone=phone)
    values = {
        "typeId": kinds[kind],
        "description": "与邻居因漏水赔偿发生纠纷，希望调解。",
        "preferredTimes": ["工作日下午", "周六上午"],
    }
    data = await api.data(
        mutation("requestAppointment", "RequestAppointmentInput"),
        {"input": values},
        token=await api.token("alpha", phone),
    )
    return phone, data["requestAppointment"]


async def do(api: Api, phone_or_token: str, name: str, input_type: str, **values: Any) -> dict[str, Any]:
    token = await api.token("alpha", phone_or_token) if phone_or_token.isdigit() else phone_or_token
    return (await api.data(mutation(name, input_type), {"input": values}, token=token))[name]


def actions(appointment: dict[str, Any]) -> list[str]:
    return [e["node"]["action"] for e in appointment["timeline"]["edges"]]


async def test_the_whole_path_from_request_to_outcome(
    api: Api, alpha: TenantHandle, kinds: dict[str, str], staff_ids: dict[str, str]
) -> None:
    resident, asked = await ask(api, alpha, kinds)
    assert asked["errors"] == [] and asked["appointment"]["status"] == "SUBMITTED"
    appointment_id = asked["appointment"]["id"]
    queue = await api.data(
        "{ appointments(first: 100, filter: {unassigned: true}) { edges { node { id } } } }",
        token=await api.token("alpha", COMMUNITY_ADMIN),
    )
    assert appointment_id in [e["node"]["id"] for e in queue["appointments"]["edges"]]

    assigned = await do(
        api,
        COMMUNITY_ADMIN,
        "assignAppointment",
        "AssignAppointmentInput",
        appointmentId=appointment_id,
        staffId=staff_ids["司法所干部"],
    )
    assert (
        assigned["appointment"]["status"] == "ASSIGNED" and assigned["appointment"]["assignee"]["name"] == "司法所干部"
    )
    mine = await api.data(
        "{ appointments(first: 100) { edges { node { id description } } } }", token=await api.token("alpha", STAFF)
    )
    assert {"id": appointment_id, "description": "与邻居因漏水赔偿发生纠纷，希望调解。"} in [
        e["node"] for e in mine["appointments"]["edges"]
    ]

    contacted = await do(
        api,
        STAFF,
        "recordAppointmentContact",
        "RecordAppointmentContactInput",
        appointmentId=appointment_id,
        contactedAt=datetime.now(UTC).isoformat(),
        method="PHONE",
        note="已电话了解情况",
    )
    assert contacted["appointment"]["status"] == "CONTACTED" and contacted["appointment"]["contactMethod"] == "PHONE"
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    scheduled = await do(
        api,
        STAFF,
        "scheduleAppointment",
        "ScheduleAppointmentInput",
        appointmentId=appointment_id,
        scheduledAt=later,
        note="司法所调解室",
    )
    assert scheduled["appointment"]["status"] == "SCHEDULED"
    done = await do(
        api,
        STAFF,
        "completeAppointment",
        "CompleteAppointmentInput",
        appointmentId=appointment_id,
        outcome="双方达成调解协议，赔偿 800 元。",
    )
    assert done["appointment"]["status"] == "COMPLETED"
    assert actions(done["appointment"]) == ["SUBMIT", "ASSIGN", "CONTACT", "SCHEDULE", "COMPLETE"]
    notes = await api.data(
        "{ notifications(first: 20) { edges { node { kind } } } }", token=await api.token("alpha", resident)
    )
    assert [e["node"]["kind"] for e in notes["notifications"]["edges"]].count("APPOINTMENT_STATUS") == 3


async def test_appointments_are_confidential(
    api: Api, alpha: TenantHandle, kinds: dict[str, str], staff_ids: dict[str, str]
) -> None:
    _, asked = await ask(api, alpha, kinds)
    appointment_id = asked["appointment"]["id"]
    await do(
        api,
        TENANT_ADMIN,
        "assignAppointment",
        "AssignAppointmentInput",
        appointmentId=appointment_id,
        staffId=staff_ids["司法所干部"],
    )
    node = "query($id: ID!) { node(id: $id) { ... on Appointment { description } } }"
    seen = {
        outsider: (await api.data(node, {"id": appointment_id}, token=await api.token("alpha", outsider)))["node"]
        for outsider in (OTHER_STAFF, WORKER_1)
    }
    assert seen == dict.fromkeys((OTHER_STAFF, WORKER_1))
    assert (await api.data(node, {"id": appointment_id}, token=await api.token("beta", TENANT_ADMIN)))["node"] is None
    body = await api.run(
        "{ appointments(first: 10) { edges { node { description } } } }", token=await api.token("alpha", WORKER_1)
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and "漏水" not in str(body)
    other_resident, _ = await ask(api, alpha, kinds)
    assert (await api.data(node, {"id": appointment_id}, token=await api.token("alpha", other_resident)))[
        "node"
    ] is None


async def test_only_admins_triage_and_only_to_the_types_department(
    api: Api, alpha: TenantHandle, kinds: dict[str, str], staff_ids: dict[str, str]
) -> None:
    resident, asked = await ask(api, alpha, kinds)
    appointment_id = asked["appointment"]["id"]
    refused = {
        who: code_of(
            await do(
                api,
                who,
                "assignAppointment",
                "AssignAppointmentInput",
                appointmentId=appointment_id,
                staffId=staff_ids["司法所干部"],
            )
        )
        for who in (resident, STAFF, WORKER_1)
    }
    assert refused == dict.fromkeys((resident, STAFF, WORKER_1), "FORBIDDEN")
    foreign = await do(
        api,
        await api.token("beta", TENANT_ADMIN),
        "assignAppointment",
        "AssignAppointmentInput",
        appointmentId=appointment_id,
        staffId=staff_ids["司法所干部"],
    )
    assert foreign["errors"][0]["code"] == "NOT_FOUND"
    wrong = await do(
        api,
        COMMUNITY_ADMIN,
        "assignAppointment",
        "AssignAppointmentInput",
        appointmentId=appointment_id,
        staffId=staff_ids["民政办干部"],
    )
    assert wrong["errors"] == [{"field": "staffId", "code": "INVALID", "message": "请选择承办该事项的部门工作人员。"}]
    _, counselling = await ask(api, alpha, kinds, "counselling")
    anyone = await do(
        api,
        COMMUNITY_ADMIN,
        "assignAppointment",
        "AssignAppointmentInput",
        appointmentId=counselling["appointment"]["id"],
        staffId=staff_ids["民政办干部"],
    )
    assert anyone["errors"] == []


async def test_only_the_assignee_follows_up_and_steps_keep_their_order(
    api: Api, alpha: TenantHandle, kinds: dict[str, str], staff_ids: dict[str, str]
) -> None:
    _, asked = await ask(api, alpha, kinds, "counselling")
    appointment_id = asked["appointment"]["id"]
    await do(
        api,
        COMMUNITY_ADMIN,
        "assignAppointment",
        "AssignAppointmentInput",
        appointmentId=appointment_id,
        staffId=staff_ids["民政办干部"],
    )
    now = datetime.now(UTC).isoformat()
    other = await do(
        api,
        STAFF,
        "recordAppointmentContact",
        "RecordAppointmentContactInput",
        appointmentId=appointment_id,
        contactedAt=now,
        method="PHONE",
    )
    assert other["errors"][0]["code"] == "NOT_FOUND"
    early = await do(
        api,
        OTHER_STAFF,
        "completeAppointment",
        "CompleteAppointmentInput",
        appointmentId=appointment_id,
        outcome="完成",
    )
    assert early["errors"][0] == {
        "field": "appointmentId",
        "code": "INVALID_TRANSITION",
        "message": "该预约当前状态为“已分派”，不能办结。",
    }
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    bad = await do(
        api,
        OTHER_STAFF,
        "recordAppointmentContact",
        "RecordAppointmentContactInput",
        appointmentId=appointment_id,
        contactedAt=future,
        method="PHONE",
    )
    assert bad["errors"][0]["field"] == "contactedAt"
    await do(
        api,
        OTHER_STAFF,
        "recordAppointmentContact",
        "RecordAppointmentContactInput",
        appointmentId=appointment_id,
        contactedAt=now,
        method="WECHAT",
    )
    past = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    assert (
        await do(
            api,
            OTHER_STAFF,
            "scheduleAppointment",
            "ScheduleAppointmentInput",
            appointmentId=appointment_id,
            scheduledAt=past,
        )
    )["errors"][0]["field"] == "scheduledAt"


async def test_the_resident_cancels_with_a_reason(api: Api, alpha: TenantHandle, kinds: dict[str, str]) -> None:
    resident, asked = await ask(api, alpha, kinds)
    appointment_id = asked["appointment"]["id"]
    assert (
        await do(api, resident, "cancelAppointment", "CancelAppointmentInput", appointmentId=appointment_id, reason=" ")
    )["errors"][0]["field"] == "reason"
    done = await do(
        api, resident, "cancelAppointment", "CancelAppointmentInput", appointmentId=appointment_id, reason="已私下和解"
    )
    assert done["appointment"]["status"] == "CANCELLED"
    again = await do(
        api, resident, "cancelAppointment", "CancelAppointmentInput", appointmentId=appointment_id, reason="已私下和解"
    )
    assert again["errors"][0]["code"] == "INVALID_TRANSITION"


async def test_not_contacted_within_a_working_day_is_overdue_and_supervised_once(
    api: Api, app, alpha: TenantHandle, kinds: dict[str, str], staff_ids: dict[str, str], clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    from server.jobs import run_jobs

    monday_morning = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # 09:00 China Standard Time
    with clock.at(monday_morning):
        _, asked = await ask(api, alpha, kinds)
        appointment_id = asked["appointment"]["id"]
        assigned = await do(
            api,
            await api.token("alpha", COMMUNITY_ADMIN),
            "assignAppointment",
            "AssignAppointmentInput",
            appointmentId=appointment_id,
            staffId=staff_ids["司法所干部"],
        )
        assert assigned["appointment"]["contactDueAt"] == "2026-12-07T17:00:00+08:00"
    with clock.at(monday_morning + timedelta(days=1)):
        admin = await api.token("alpha", COMMUNITY_ADMIN)
        overdue = await api.data(
            "{ appointments(first: 100, filter: {overdue: true}) { edges { node { id overdue } } } }", token=admin
        )
        assert {"id": appointment_id, "overdue": True} in [e["node"] for e in overdue["appointments"]["edges"]]
        await run_jobs(app.state.services)
        await run_jobs(app.state.services)
        node = await api.data(
            "query($id: ID!) { node(id: $id) { ... on Appointment { timeline(first: 20) { edges { node { action } } } } } }",
            {"id": appointment_id},
            token=admin,
        )
    assert actions(node["node"]).count("MARK_OVERDUE") == 1
