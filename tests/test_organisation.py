"""Communities, grids and buildings: public inside a tenant, paged, loaded without N+1."""

from __future__ import annotations

from tests.conftest import WORKER_1
from tests.support import Api, TenantHandle, gid

NESTED = """
query($communities: Int!, $grids: Int!) {
  communities(first: $communities) {
    edges { node { name grids(first: $grids) { edges { node { name worker { name phone } community { name }
      buildings(first: 5) { edges { node { name grid { code } } } } } } } } }
  }
}"""


async def test_anonymous_caller_lists_communities_grids_and_buildings_of_the_named_tenant(
    api: Api, alpha: TenantHandle
) -> None:
    data = await api.data(NESTED, {"communities": 10, "grids": 10}, tenant="alpha")
    communities = {e["node"]["name"]: e["node"] for e in data["communities"]["edges"]}
    assert set(communities) == {"东风社区", "西湖社区"}
    grids = [g["node"] for g in communities["东风社区"]["grids"]["edges"]]
    assert [g["name"] for g in grids] == ["东风一网格", "东风二网格"]
    assert [b["node"]["name"] for b in grids[0]["buildings"]["edges"]] == ["1号楼", "2号楼"]
    assert grids[0]["community"]["name"] == "东风社区"
    # Who works a grid is for signed-in callers only.
    assert grids[0]["worker"] is None


async def test_signed_in_caller_sees_the_grid_worker_with_a_masked_phone(api: Api, alpha: TenantHandle) -> None:
    resident = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"])
    token = resident["tokens"]["accessToken"]
    data = await api.data(NESTED, {"communities": 10, "grids": 10}, token=token)
    grid = data["communities"]["edges"][0]["node"]["grids"]["edges"][0]["node"]
    assert grid["worker"] == {"name": "网格员一", "phone": "139****0011"}


async def test_grid_worker_sees_their_own_phone_whole(api: Api) -> None:
    token = await api.token("alpha", WORKER_1)
    data = await api.data(NESTED, {"communities": 1, "grids": 1}, token=token)
    assert data["communities"]["edges"][0]["node"]["grids"]["edges"][0]["node"]["worker"]["phone"] == WORKER_1


async def test_pages_follow_the_cursor_without_repeating_or_skipping(api: Api, alpha: TenantHandle) -> None:
    query = "query($after: String) { communities(first: 1, after: $after) { edges { node { name } cursor } pageInfo { hasNextPage hasPreviousPage endCursor } } }"
    first = (await api.data(query, tenant="alpha"))["communities"]
    assert first["pageInfo"]["hasNextPage"] is True and first["pageInfo"]["hasPreviousPage"] is False
    second = (await api.data(query, {"after": first["pageInfo"]["endCursor"]}, tenant="alpha"))["communities"]
    assert second["pageInfo"]["hasNextPage"] is False
    names = [e["node"]["name"] for e in first["edges"] + second["edges"]]
    assert sorted(names) == ["东风社区", "西湖社区"] and len(set(names)) == 2


async def test_page_size_is_capped_and_a_bad_cursor_is_a_clear_error(api: Api) -> None:
    body = await api.run("{ communities(first: 101) { edges { node { name } } } }", tenant="alpha")
    assert body["errors"][0]["extensions"] == {"code": "INVALID", "field": "first"}
    body = await api.run('{ communities(first: 5, after: "garbage") { edges { node { name } } } }', tenant="alpha")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


async def test_nested_lists_cost_the_same_statements_whatever_the_page_size(api: Api, alpha: TenantHandle) -> None:
    token = await api.token("alpha", WORKER_1)

    async def statements(communities: int, grids: int) -> int:
        return await api.statements(NESTED, {"communities": communities, "grids": grids}, token=token)

    small = await statements(1, 1)
    assert small == await statements(2, 2) == await statements(2, 10)
    # tenant lookup aside: begin, communities, grids, buildings, workers, communities by id
    assert small <= 8


async def test_node_finds_a_community_by_global_id_and_nothing_for_a_malformed_one(
    api: Api, alpha: TenantHandle
) -> None:
    community = gid("Community", alpha.communities["A2"])
    query = "query($id: ID!) { node(id: $id) { ... on Community { name code } } }"
    assert (await api.data(query, {"id": community}, tenant="alpha"))["node"] == {"name": "西湖社区", "code": "A2"}
    assert (await api.data(query, {"id": gid("Community", "not-a-uuid")}, tenant="alpha"))["node"] is None
