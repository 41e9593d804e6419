"""Expected failures, in the caller's terms: a machine code, a Chinese message, and the input
field at fault. The schema layer turns them into `errors: [UserError!]!` or GraphQL errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.errors import ErrorCode
from models.lifecycle import Refusal, TransitionRefused

__all__ = ["DomainError", "ErrorCode", "InputCheck", "Issue", "fail", "not_found", "refused"]


@dataclass(frozen=True)
class Issue:
    code: ErrorCode
    message: str
    field: str | None = None


class DomainError(Exception):
    """`keep_changes` is for the rare failure that must still be recorded, such as a failed
    login counting towards the lock-out; every other failure leaves the database as it was."""

    def __init__(self, *issues: Issue, keep_changes: bool = False) -> None:
        super().__init__("; ".join(f"{i.code}: {i.message}" for i in issues))
        self.issues = list(issues)
        self.keep_changes = keep_changes

    @property
    def code(self) -> ErrorCode:
        return self.issues[0].code


def fail(code: ErrorCode, message: str, field: str | None = None) -> DomainError:
    return DomainError(Issue(code, message, field))


def not_found(what: str, field: str | None = "id") -> DomainError:
    return fail(ErrorCode.NOT_FOUND, f"未找到该{what}。", field)


def refused(
    refusal: TransitionRefused,
    *,
    thing: str,
    states: Mapping[Any, str],
    actions: Mapping[Any, str],
    field: str,
) -> DomainError:
    """A lifecycle step refused, in the caller's terms: not theirs to take (FORBIDDEN), or not
    now (INVALID_TRANSITION, naming the current state)."""
    action = actions[refusal.action]
    if refusal.reason is Refusal.PARTY:
        return fail(ErrorCode.FORBIDDEN, f"您不能对该{thing}执行“{action}”。")
    state = states[refusal.state]
    return fail(ErrorCode.INVALID_TRANSITION, f"该{thing}当前状态为“{state}”，不能{action}。", field)


class InputCheck:
    """Collects every problem of an input before failing, so a form shows them all at once."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def require(self, ok: bool, field: str, message: str, code: ErrorCode = ErrorCode.INVALID) -> bool:
        if not ok:
            self.issues.append(Issue(code, message, field))
        return ok

    def text(self, value: str, field: str, label: str, *, min_length: int = 1, max_length: int) -> str:
        value = value.strip()
        self.require(
            min_length <= len(value) <= max_length,
            field,
            f"{label}应为 {min_length}–{max_length} 个字符。",
        )
        return value

    def done(self) -> None:
        if self.issues:
            raise DomainError(*self.issues)
