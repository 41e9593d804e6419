"""Articles (魅力街道) through the endpoint: written by admins over their community (the street
office's by tenant admins), public once published, withdrawn out of sight; bodies cleaned of
anything that could run in a reader's app; lists pinned first, then newest, paged by keyset."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette

from models.articles import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, Article, ArticleStatus, sanitised_body
from schema.articles import ARTICLE_CAN
from tests.conftest import COMMUNITY_ADMIN, OTHER_COMMUNITY_ADMIN, TENANT_ADMIN, WORKER_1
from tests.media_files import photo
from tests.support import Api, TenantHandle, fresh_phone, gid
from tests.test_viewer_can import Walk

ARTICLE = "article { id title body status pinned publishedAt streetWide viewerCan { update publish withdraw } } errors { field code message }"
CREATE = f"mutation($input: CreateArticleInput!) {{ createArticle(input: $input) {{ {ARTICLE} }} }}"
UPDATE = f"mutation($input: UpdateArticleInput!) {{ updateArticle(input: $input) {{ {ARTICLE} }} }}"
PUBLISH = f"mutation($input: ArticleStepInput!) {{ publishArticle(input: $input) {{ {ARTICLE} }} }}"
WITHDRAW = f"mutation($input: ArticleStepInput!) {{ withdrawArticle(input: $input) {{ {ARTICLE} }} }}"
NODE = "query($id: ID!) { node(id: $id) { ... on Article { id status title } } }"
LIST = """query($filter: ArticleFilter, $first: Int, $after: String) { articles(filter: $filter, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id title pinned status } } } }"""

# What an attacker might put in a body: none of it may survive as something that runs.
XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    '<a href="javascript:alert(1)">点我</a>',
    '<a href="JaVaScRiPt:alert(1)">点我</a>',
    '<a href="&#106;avascript:alert(1)">点我</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">点我</a>',
    "<svg onload=alert(1)></svg>",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">样式</p>',
    '<div onclick="alert(1)">点我</div>',
    "<body onload=alert(1)>",
    '<object data="evil.swf"></object>',
    '<embed src="evil.swf">',
    '<form action="https://evil.example"><input name=x></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<scr<script>ipt>alert(1)</script>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    "<!--<img src=x onerror=alert(1)>-->",
    "<p>正文</p><noscript><img src=x onerror=alert(1)></noscript>",
]


class Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML (text stays text)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]


def assert_inert(html: str) -> None:
    """Nothing in it runs: only allowed elements, no event handlers or styles, URLs relative or http(s)."""
    found = Elements(html)
    disallowed = [
        (tag, name)
        for tag, name, _ in found.attributes
        if not (name in ALLOWED_ATTRIBUTES.get(tag, set()) or (tag, name) == ("a", "rel"))
    ]
    unsafe = [
        value
        for _, name, value in found.attributes
        if name in ("href", "src") and urlsplit(value.strip()).scheme.lower() not in ("", "http", "https")
    ]
    assert (set(found.tags) - ALLOWED_TAGS, disallowed, unsafe) == (set(), [], [])


def draft(title: str = "社区开展垃圾分类宣传", **extra: Any) -> dict[str, Any]:
    return {"title": title, "body": "<p>周六上午，社区在<strong>中心广场</strong>开展宣传。</p>", **extra}


async def created(api: Api, token: str, community_id: str | None, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"article": draft(**fields)}
    if community_id is not None:
        values["communityId"] = community_id
    result = (await api.data(CREATE, {"input": values}, token=token))["createArticle"]
    assert result["errors"] == [], result
    return dict(result["article"])


async def step(api: Api, document: str, name: str, token: str, article_id: str) -> dict[str, Any]:
    return dict((await api.data(document, {"input": {"articleId": article_id}}, token=token))[name])


@pytest.mark.parametrize("payload", XSS)
def test_a_body_keeps_nothing_that_could_run(payload: str) -> None:
    cleaned = sanitised_body(f"<p>开头</p>{payload}<p>结尾</p>")
    assert_inert(cleaned)
    assert "<script" not in cleaned.lower() and "javascript:" not in cleaned.lower()
    assert cleaned.startswith("<p>开头</p>") and cleaned.endswith("<p>结尾</p>")


def test_a_body_keeps_what_an_editor_writes() -> None:
    body = '<h2>标题</h2><p><strong>粗</strong><em>斜</em></p><ul><li>一</li></ul><a href="https://example.cn/a">链接</a><img src="https://example.cn/a.png" alt="图">'
    cleaned = sanitised_body(body)
    kept = (
        "<h2>",
        "<strong>",
        "<em>",
        "<li>",
        'href="https://example.cn/a"',
        'src="https://example.cn/a.png"',
        'rel="noopener noreferrer nofollow"',
    )
    assert [k for k in kept if k not in cleaned] == [], cleaned


async def test_bodies_sent_through_the_endpoint_are_stored_clean(api: Api, alpha: TenantHandle) -> None:
    token = await api.token("alpha", COMMUNITY_ADMIN)
    article = await created(api, token, gid("Community", alpha.communities["A1"]), body="<p>安全</p>" + "".join(XSS))
    assert_inert(article["body"])
    assert "<p>安全</p>" in article["body"]


async def test_draft_published_withdrawn_and_who_sees_it(api: Api, alpha: TenantHandle) -> None:
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    article = await created(api, admin, gid("Community", alpha.communities["A1"]), title="草稿不公开")
    assert article["status"] == "DRAFT"
    assert article["viewerCan"] == {"update": True, "publish": True, "withdraw": False}
    phone = fresh_phone()
    await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=phone)
    resident = await api.token("alpha", phone)
    outsiders: dict[str, dict[str, str]] = {
        "anonymous": {"tenant": "alpha"},
        "resident": {"token": resident},
        "other community admin": {"token": await api.token("alpha", OTHER_COMMUNITY_ADMIN)},
    }
    seen = {who: (await api.data(NODE, {"id": article["id"]}, **caller))["node"] for who, caller in outsiders.items()}
    assert seen == dict.fromkeys(outsiders)

    published = await step(api, PUBLISH, "publishArticle", admin, article["id"])
    assert published["article"]["status"] == "PUBLISHED" and published["article"]["publishedAt"]
    assert published["article"]["viewerCan"] == {"update": True, "publish": False, "withdraw": True}
    anonymous = await api.data(NODE, {"id": article["id"]}, tenant="alpha")
    assert anonymous["node"]["status"] == "PUBLISHED"
    can = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Article { viewerCan { update publish withdraw } timeline(first: 5) { edges { node { action } } } } } }",
        {"id": article["id"]},
        token=resident,
    )
    assert can["node"]["viewerCan"] == {"update": False, "publish": False, "withdraw": False}
    assert can["node"]["timeline"]["edges"] == []

    assert [
        e["code"]
        for e in (
            await step(api, WITHDRAW, "withdrawArticle", await api.token("alpha", OTHER_COMMUNITY_ADMIN), article["id"])
        )["errors"]
    ] == ["FORBIDDEN"]
    assert [e["code"] for e in (await step(api, WITHDRAW, "withdrawArticle", resident, article["id"]))["errors"]] == [
        "FORBIDDEN"
    ]
    assert [e["code"] for e in (await step(api, PUBLISH, "publishArticle", admin, article["id"]))["errors"]] == [
        "INVALID_TRANSITION"
    ]
    withdrawn = await step(api, WITHDRAW, "withdrawArticle", await api.token("alpha", TENANT_ADMIN), article["id"])
    assert withdrawn["article"]["status"] == "WITHDRAWN"
    assert (await api.data(NODE, {"id": article["id"]}, tenant="alpha"))["node"] is None
    timeline = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Article { timeline(first: 5) { edges { node { action toStatus } } } } } }",
        {"id": article["id"]},
        token=admin,
    )
    assert [e["node"]["action"] for e in timeline["node"]["timeline"]["edges"]] == ["CREATE", "PUBLISH", "WITHDRAW"]


@pytest.mark.parametrize(
    ("tenant", "phone", "community", "code"),
    [
        ("alpha", WORKER_1, "A1", "FORBIDDEN"),
        ("alpha", OTHER_COMMUNITY_ADMIN, "A1", "OUT_OF_SCOPE"),
        ("alpha", COMMUNITY_ADMIN, None, "OUT_OF_SCOPE"),  # the street office's: tenant admins only
        ("beta", TENANT_ADMIN, "A1", "NOT_FOUND"),
    ],
)
async def test_only_admins_over_a_community_write_its_articles(
    api: Api, alpha: TenantHandle, tenant: str, phone: str, community: str | None, code: str
) -> None:
    values: dict[str, Any] = {"article": draft()}
    if community:
        values["communityId"] = gid("Community", alpha.communities[community])
    result = (await api.data(CREATE, {"input": values}, token=await api.token(tenant, phone)))["createArticle"]
    assert result["article"] is None
    assert code in {e["code"] for e in result["errors"]}, result


async def test_another_tenant_cannot_touch_an_article(api: Api, alpha: TenantHandle) -> None:
    article = await created(api, await api.token("alpha", TENANT_ADMIN), None)
    beta = await api.token("beta", TENANT_ADMIN)
    assert [e["code"] for e in (await step(api, PUBLISH, "publishArticle", beta, article["id"]))["errors"]] == [
        "NOT_FOUND"
    ]
    updated = (await api.data(UPDATE, {"input": {"articleId": article["id"], "article": draft()}}, token=beta))[
        "updateArticle"
    ]
    assert [e["code"] for e in updated["errors"]] == ["NOT_FOUND"]


async def test_lists_put_pinned_first_then_the_newest_and_page_without_gaps(api: Api, alpha: TenantHandle) -> None:
    admin = await api.token("alpha", TENANT_ADMIN)
    community = gid("Community", alpha.communities["A2"])
    ids = []
    for n, pinned in enumerate((False, True, False, False, True)):
        article = await created(api, admin, community, title=f"排序{n}", pinned=pinned)
        assert (await step(api, PUBLISH, "publishArticle", admin, article["id"]))["errors"] == []
        ids.append(article["id"])
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = (
            await api.data(LIST, {"filter": {"communityId": community}, "first": 2, "after": after}, tenant="alpha")
        )["articles"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len({a["id"] for a in seen}) == page["totalCount"]
    mine = [a["id"] for a in seen if a["id"] in ids]
    assert mine == [ids[4], ids[1], ids[3], ids[2], ids[0]]
    pinned = [a["pinned"] for a in seen]
    assert pinned == sorted(pinned, reverse=True)
    assert all(a["status"] == "PUBLISHED" for a in seen)


async def test_a_list_takes_the_same_statements_whatever_the_page(api: Api, alpha: TenantHandle) -> None:
    admin = await api.token("alpha", TENANT_ADMIN)
    for n in range(3):
        article = await created(api, admin, gid("Community", alpha.communities["A1"]), title=f"计数{n}")
        await step(api, PUBLISH, "publishArticle", admin, article["id"])
    query = """query($n: Int!) { articles(first: $n) { totalCount edges { node { id title authorName community { name }
      viewerCan { publish } timeline(first: 3) { totalCount edges { node { action actorName } } } } } } }"""

    async def statements(n: int, **who: Any) -> int:
        return await api.statements(query, {"n": n}, **who)

    assert await statements(1, token=admin) == await statements(3, token=admin)
    assert await statements(1, tenant="alpha") == await statements(3, tenant="alpha")


@pytest.mark.parametrize("state", list(ArticleStatus))
async def test_an_articles_viewer_can_is_what_its_mutations_accept(
    state: ArticleStatus, api: Api, app: Starlette, alpha: TenantHandle
) -> None:
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    article = await created(api, admin, gid("Community", alpha.communities["A1"]), title="walk")
    fields = {"article": draft(title="walk")}
    step_input = {"articleId": article["id"]}
    walk = Walk(
        api,
        app,
        alpha.id,
        Article,
        article["id"],
        ARTICLE_CAN,
        {
            "updateArticle": lambda _: {**step_input, **fields},
            "publishArticle": lambda _: step_input,
            "withdrawArticle": lambda _: step_input,
        },
    )
    roles = {"community admin": COMMUNITY_ADMIN, "tenant admin": TENANT_ADMIN}
    if state is ArticleStatus.PUBLISHED:
        # Readers see it, and may do nothing to it.
        roles |= {"other community admin": OTHER_COMMUNITY_ADMIN, "grid worker": WORKER_1}
    await walk.check({"status": state}, roles)


async def test_a_cover_uploaded_first_is_shown_and_can_be_taken_away(api: Api, alpha: TenantHandle) -> None:
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    response = await api.upload_ahead("cover.jpg", photo("image/jpeg"), "image/jpeg", token=admin)
    assert response.status_code == 201, response.text
    cover_id = response.json()["id"]
    article = await created(api, admin, gid("Community", alpha.communities["A1"]), coverId=cover_id)
    shown = "query($id: ID!) { node(id: $id) { ... on Article { coverUrl } } }"
    url = (await api.data(shown, {"id": article["id"]}, token=admin))["node"]["coverUrl"]
    assert (await api.client.get(url)).content.startswith(b"\xff\xd8")
    again = await api.data(
        CREATE, {"input": {"article": draft(coverId=cover_id)}}, token=await api.token("alpha", TENANT_ADMIN)
    )
    assert [e["field"] for e in again["createArticle"]["errors"]] == ["coverId.0"]
    removed = await api.data(
        UPDATE, {"input": {"articleId": article["id"], "article": draft(), "removeCover": True}}, token=admin
    )
    assert removed["updateArticle"]["errors"] == []
    assert (await api.data(shown, {"id": article["id"]}, token=admin))["node"]["coverUrl"] is None
