"""Persisted queries: a client sends a document's sha256 instead of its text.

Automatic persisted queries (Apollo's protocol): a hash the server does not know is answered
PersistedQueryNotFound; the client sends the hash with the text, which is run and, once it has
passed validation and the cost limit, stored; from then on the hash alone will do, over POST or
GET. The store is a platform-wide table, so every process shares it, with the hits cached in
each process. Trusted-documents mode (WANJIA_TRUSTED_DOCUMENTS_ONLY) runs nothing but the
documents registered from front-end builds (`wanjia documents register`), whether sent by hash
or by text, and stores nothing sent by clients.

A document found by its hash is run like any other: the depth, alias, token and cost limits and
the introspection ban all apply to it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from graphql import GraphQLSchema, parse, validate
from graphql.error import GraphQLSyntaxError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from models.persisted_queries import PersistedQuery

SHA256 = re.compile(r"^[0-9a-f]{64}$")
logger = logging.getLogger("wanjia.persisted_queries")


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Document:
    text: str
    trusted: bool


class PersistedQueries:
    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime], *, cache_size: int = 2000) -> None:
        self.engine = engine
        self.clock = clock
        self.cache_size = cache_size
        # Hits only: a hash unknown here may be stored by another process any moment.
        self._cache: OrderedDict[str, Document] = OrderedDict()

    async def find(self, sha256: str) -> Document | None:
        if sha256 in self._cache:
            self._cache.move_to_end(sha256)
            return self._cache[sha256]
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(PersistedQuery.document, PersistedQuery.trusted).where(PersistedQuery.sha256 == sha256)
                )
            ).first()
        if row is None:
            return None
        return self._remember(sha256, Document(row.document, row.trusted))

    async def store(self, sha256: str, text: str) -> None:
        """A document a client sent with its hash, checked by then to match it. The operation
        has run by then (a mutation may have committed), so failing to store it is no failure
        of the request: the client will send the text again."""
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    insert(PersistedQuery).values(sha256=sha256, document=text, trusted=False, created_at=self.clock())
                )
        except IntegrityError:
            pass  # stored meanwhile, by another request or process
        except SQLAlchemyError as error:
            logger.warning("persisted query not stored: %s", type(error).__name__)
            return
        self._remember(sha256, Document(text, trusted=False))

    async def register(self, documents: dict[str, str]) -> tuple[int, int]:
        """Documents of a front-end build, trusted from now on, in one transaction. Answers how
        many were new and how many were known already (those become trusted if they were not)."""
        async with self.engine.begin() as connection:
            known = set(
                (
                    await connection.execute(
                        select(PersistedQuery.sha256).where(PersistedQuery.sha256.in_(list(documents)))
                    )
                ).scalars()
            )
            new = [sha for sha in documents if sha not in known]
            if new:
                await connection.execute(
                    insert(PersistedQuery),
                    [{"sha256": s, "document": documents[s], "trusted": True, "created_at": self.clock()} for s in new],
                )
            if known:
                await connection.execute(
                    update(PersistedQuery).where(PersistedQuery.sha256.in_(known)).values(trusted=True)
                )
        self._cache.clear()
        return len(new), len(known)

    def _remember(self, sha256: str, document: Document) -> Document:
        self._cache[sha256] = document
        self._cache.move_to_end(sha256)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return document


class DocumentsError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_documents(paths: Iterable[Path], schema: GraphQLSchema) -> dict[str, str]:
    """The documents of a front-end build, by sha256, from the files it emits: a JSON map of
    hash to document (graphql-codegen's persisted documents), Apollo's persisted query manifest,
    or .graphql files (one document each, hashed as written). Each must be a valid document of
    this schema and match its hash; any problem refuses them all."""
    documents: dict[str, str] = {}
    problems: list[str] = []
    for path in paths:
        try:
            found = _documents_in(path)
        except (OSError, ValueError, KeyError, TypeError) as error:
            problems.append(f"{path}: {error}")
            continue
        for claimed, text in found:
            actual = sha256_of(text)
            if claimed is not None and claimed.lower() != actual:
                problems.append(f"{path}: {claimed}: 与文档的 sha256 不符（应为 {actual}）")
                continue
            try:
                errors = validate(schema, parse(text))
            except GraphQLSyntaxError as error:
                errors = [error]
            problems += [f"{path}: {actual[:12]}…: {error.message}" for error in errors]
            documents[actual] = text
    if problems:
        raise DocumentsError(problems)
    return documents


def _documents_in(path: Path) -> list[tuple[str | None, str]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".graphql", ".gql"):
        return [(None, text)]
    data = json.loads(text)
    if isinstance(data, dict) and data.get("format") == "apollo-persisted-query-manifest":
        return [(operation["id"], operation["body"]) for operation in data["operations"]]
    if isinstance(data, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return list(data.items())
    raise ValueError(
        "不是可识别的格式：应为 {sha256: 文档} 的 JSON、Apollo 的 persisted query manifest 或 .graphql 文件"
    )
