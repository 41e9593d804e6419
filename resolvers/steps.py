"""A domain's steps as callers take them: its lifecycle (models.lifecycle) and, beside it, each
step's own guard (a work order signed for, a window still open, a time not yet come).

The mutation that takes a step and `viewerCan`, which tells a client which steps it may offer
now, read the same `Steps`: a step the one allows is a step the other takes, so no client
rebuilds the state machine and no rule is written twice.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from models.lifecycle import Lifecycle, TransitionRefused
from resolvers.errors import DomainError, refused
from tenants.context import RequestContext

S = TypeVar("S", bound=enum.Enum)
A = TypeVar("A", bound=enum.Enum)
P = TypeVar("P", bound=enum.Enum)


class Stateful(Protocol):
    """An item as a guard reads it: the ORM row a mutation writes, or the typed row a query
    read. Guards read only attributes the two have in common."""

    @property
    def status(self) -> Any: ...


# A step's own rule beyond the lifecycle: the refusal when the step cannot be taken now, else None.
Guard = Callable[[RequestContext, Any, frozenset[P]], DomainError | None]


@dataclass(frozen=True)
class Steps(Generic[S, A, P]):
    lifecycle: Lifecycle[S, A, P]
    # For refusals in the caller's terms: "该{thing}当前状态为“{state}”，不能{action}。"
    thing: str
    states: Mapping[S, str]
    actions: Mapping[A, str]
    field: str
    guards: Mapping[A, Guard[P]] = dataclasses.field(default_factory=dict)

    def next_state(self, ctx: RequestContext, action: A, item: Stateful, parties: Iterable[P]) -> S:
        """The state `action` leads to, or the refusal: not this caller's step (FORBIDDEN), not in
        this state (INVALID_TRANSITION), or the step's own guard."""
        callers = frozenset(parties)
        try:
            after = self.lifecycle.next_state(action, item.status, callers)
        except TransitionRefused as refusal:
            raise refused(
                refusal, thing=self.thing, states=self.states, actions=self.actions, field=self.field
            ) from refusal
        blocked = self._guard(ctx, action, item, callers)
        if blocked is not None:
            raise blocked
        return after

    def available(self, ctx: RequestContext, item: Stateful, parties: Iterable[P]) -> frozenset[A]:
        """The steps these parties may take on `item` now: exactly those `next_state` allows."""
        callers = frozenset(parties)
        return frozenset(
            action
            for action in self.lifecycle.available(item.status, callers)
            if self._guard(ctx, action, item, callers) is None
        )

    def _guard(self, ctx: RequestContext, action: A, item: Stateful, parties: frozenset[P]) -> DomainError | None:
        guard = self.guards.get(action)
        return guard(ctx, item, parties) if guard is not None else None
