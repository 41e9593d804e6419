"""The one lifecycle mechanism, as every domain instantiates it: `available` (what a viewer's
buttons will offer) agrees with `next_state` (what a step does) for every state, action and set
of parties; sweeps find exactly the states their system step starts from; ended items stay
ended."""

from __future__ import annotations

import itertools
from enum import Enum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import appointments, bookings, complaints
from models.lifecycle import Lifecycle, Refusal, TransitionRefused

DOMAINS: dict[str, tuple[Lifecycle[Any, Any, Any], type[Enum], type[Enum], type[Enum]]] = {
    "complaints": (
        complaints.LIFECYCLE,
        complaints.ComplaintStatus,
        complaints.ComplaintAction,
        complaints.ComplaintParty,
    ),
    "bookings": (bookings.LIFECYCLE, bookings.BookingStatus, bookings.BookingAction, bookings.BookingParty),
    "appointments": (
        appointments.LIFECYCLE,
        appointments.AppointmentStatus,
        appointments.AppointmentAction,
        appointments.AppointmentParty,
    ),
}
ENDED = {
    "complaints": {"closed", "rejected", "withdrawn"},
    "bookings": {"rejected", "cancelled", "no_show", "completed"},
    "appointments": {"completed", "cancelled"},
}


def party_sets(parties: type[Enum]) -> list[frozenset[Any]]:
    members = list(parties)
    return [frozenset(c) for n in range(len(members) + 1) for c in itertools.combinations(members, n)]


@pytest.mark.parametrize("domain", DOMAINS)
def test_what_a_viewer_is_offered_is_exactly_what_they_may_do(domain: str) -> None:
    lifecycle, states, actions, parties = DOMAINS[domain]
    wrong = []
    for state, action, callers in itertools.product(states, actions, party_sets(parties)):
        try:
            lifecycle.next_state(action, state, callers)
            allowed = True
        except TransitionRefused as refusal:
            allowed = False
            could_happen = any(t.action == action and state in t.sources for t in lifecycle.transitions)
            if refusal.reason is not (Refusal.PARTY if could_happen else Refusal.STATE):
                wrong.append((state, action, callers, refusal.reason))
        if (action in lifecycle.available(state, callers)) is not allowed:
            wrong.append((state, action, callers, "offered" if not allowed else "not offered"))
    assert wrong == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_sweep_looks_in_exactly_the_states_its_step_starts_from(domain: str) -> None:
    lifecycle, states, actions, parties = DOMAINS[domain]
    cases = list(itertools.product(actions, parties))
    sources = {(action, party): lifecycle.sources(action, party) for action, party in cases}
    assert sources == {
        (action, party): {s for s in states if action in lifecycle.available(s, {party})} for action, party in cases
    }


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_system_takes_no_one_elses_step_and_no_one_takes_the_systems(domain: str) -> None:
    lifecycle, _, _, parties = DOMAINS[domain]
    system = parties["SYSTEM"]  # type: ignore[index]
    assert [t for t in lifecycle.transitions if not (t.parties == {system} or system not in t.parties)] == []


@given(data=st.data())
def test_a_walk_through_what_is_offered_ends_only_in_an_ended_state(data: st.DataObject) -> None:
    domain = data.draw(st.sampled_from(sorted(DOMAINS)))
    lifecycle, states, _, parties = DOMAINS[domain]
    state = data.draw(st.sampled_from(list(states)))
    for _ in range(20):
        callers = data.draw(st.frozensets(st.sampled_from(list(parties)), min_size=1))
        offered = sorted(lifecycle.available(state, callers), key=str)
        if not offered:
            # Nothing for anyone at all means the item has ended, and it stays so.
            if not lifecycle.available(state, frozenset(parties)):
                assert state.value in ENDED[domain]
            continue
        state = lifecycle.next_state(data.draw(st.sampled_from(offered)), state, callers)
    offered = {ended: lifecycle.available(states(ended), frozenset(parties)) for ended in ENDED[domain]}
    assert offered == dict.fromkeys(ENDED[domain], frozenset())
