"""One lifecycle mechanism for every domain: states, actions, the parties an actor can be to an
item, and the transitions between them, as data.

A domain instantiates `Lifecycle` with its own enums (see models.complaints). Use cases ask it
where a step leads (`next_state`), sweeps which states a system step starts from (`sources`),
and a client's buttons which steps a viewer's parties may take now (`available`). Who a caller
*is* to an item (its resident, its handler, an admin over it) is the resolvers' business; the
lifecycle only says what each party may do.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

S = TypeVar("S", bound=enum.Enum)
A = TypeVar("A", bound=enum.Enum)
P = TypeVar("P", bound=enum.Enum)


@dataclass(frozen=True)
class Transition(Generic[S, A, P]):
    action: A
    sources: frozenset[S]
    target: S | None  # None: the state stays as it is (a note, a flag, a new deadline)
    parties: frozenset[P]


def transition(action: A, sources: Iterable[S], target: S | None, *parties: P) -> Transition[S, A, P]:
    return Transition(action, frozenset(sources), target, frozenset(parties))


class Refusal(enum.Enum):
    STATE = "state"  # no transition of the action starts from the current state
    PARTY = "party"  # one does, but the caller is none of the parties it belongs to


class TransitionRefused(Exception):
    def __init__(self, reason: Refusal, action: enum.Enum, state: enum.Enum) -> None:
        super().__init__(f"{action} refused ({reason.value}) in {state}")
        self.reason = reason
        self.action = action
        self.state = state


@dataclass(frozen=True)
class Lifecycle(Generic[S, A, P]):
    transitions: tuple[Transition[S, A, P], ...]

    def next_state(self, action: A, state: S, parties: Iterable[P]) -> S:
        """The state after `action`, or TransitionRefused. The parties matter only when the step
        could happen now, so a step out of turn is named as such to everyone."""
        from_here = [t for t in self.transitions if t.action == action and state in t.sources]
        if not from_here:
            raise TransitionRefused(Refusal.STATE, action, state)
        callers = frozenset(parties)
        for candidate in from_here:
            if candidate.parties & callers:
                return candidate.target if candidate.target is not None else state
        raise TransitionRefused(Refusal.PARTY, action, state)

    def available(self, state: S, parties: Iterable[P]) -> frozenset[A]:
        """The actions these parties may take in this state: exactly those `next_state` allows."""
        callers = frozenset(parties)
        return frozenset(t.action for t in self.transitions if state in t.sources and t.parties & callers)

    def sources(self, action: A, party: P) -> frozenset[S]:
        """The states from which `party` may take `action` (what a sweep looks for)."""
        return frozenset(s for t in self.transitions if t.action == action and party in t.parties for s in t.sources)
