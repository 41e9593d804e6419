"""docs/ travels with the code: each lifecycle table of docs/domain.md is the Lifecycle of its
domain, row for row, and no document or comment points outside the repository for them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from models import appointments, bookings, complaints, volunteers
from models.lifecycle import Lifecycle

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "docs" / "domain.md"
LIFECYCLES: dict[str, Lifecycle[Any, Any, Any]] = {
    "complaints": complaints.LIFECYCLE,
    "bookings": bookings.LIFECYCLE,
    "appointments": appointments.LIFECYCLE,
    "volunteers": volunteers.VOLUNTEER_LIFECYCLE,
    "volunteer activities": volunteers.ACTIVITY_LIFECYCLE,
    "volunteer sign-ups": volunteers.SIGNUP_LIFECYCLE,
}
Row = tuple[str, frozenset[str], str | None, frozenset[str]]


def documented(name: str) -> list[Row]:
    """The table under `<!-- lifecycle: name -->`: step, from, to ("stays": None), taken by."""
    text = DOMAIN.read_text(encoding="utf-8")
    table = text.split(f"<!-- lifecycle: {name} -->\n", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines()[2:]:
        step, sources, target, parties = (cell.strip() for cell in line.strip("|").split("|"))
        rows.append(
            (
                _names(step)[0],
                frozenset(_names(sources)),
                None if target == "stays" else _names(target)[0],
                frozenset(_names(parties)),
            )
        )
    return rows


def _names(cell: str) -> list[str]:
    return re.findall(r"`([a-z_]+)`", cell)


def in_code(lifecycle: Lifecycle[Any, Any, Any]) -> list[Row]:
    return [
        (
            t.action.value,
            frozenset(s.value for s in t.sources),
            t.target.value if t.target is not None else None,
            frozenset(p.value for p in t.parties),
        )
        for t in lifecycle.transitions
    ]


@pytest.mark.parametrize("name", LIFECYCLES)
def test_each_lifecycle_table_of_the_domain_page_is_the_codes(name: str) -> None:
    assert sorted(documented(name), key=repr) == sorted(in_code(LIFECYCLES[name]), key=repr)


def test_nothing_points_at_documents_outside_the_repository() -> None:
    sources = [
        path
        for folder in ("models", "schema", "resolvers", "tenants", "server", "tests", "bench", "docs")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in {".py", ".md", ".toml"} and "node_modules" not in path.parts
    ]
    pointing = [
        str(p.relative_to(ROOT)) for p in [*sources, ROOT / "README.md"] if "shared/" + "DOMAIN" in p.read_text()
    ]
    assert pointing == []
