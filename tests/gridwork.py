"""A street office drawn on the map, for the grid-work tests (the `mapped` fixture): grids with boundaries around
万青路 in Baotou (GCJ-02), working hours, a tolerance and an inspection checklist."""

from __future__ import annotations

from tests.support import staff


def square(west: float, south: float, east: float, north: float) -> dict[str, object]:
    return {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }


# G1: 109.840–109.842 E, 40.650–40.652 N. At 40.65°N a thousandth of a degree is 111.05 m of
# latitude but only 84.57 m of longitude.
G1 = square(109.840, 40.650, 109.842, 40.652)

MAPPED = {
    "slug": "mapped",
    "name": "测绘街道",
    "settings": {
        "attendance": {"work_starts": "08:30", "work_ends": "17:30", "missing_after": "10:00", "tolerance_metres": 50}
    },
    "categories": [
        {"code": "safety", "name": "安全隐患", "acknowledge_hours": 4, "resolve_days": 2},
        {"code": "facilities", "name": "公共设施", "acknowledge_hours": 8, "resolve_days": 5},
    ],
    "inspection_checklists": [
        {
            "code": "daily",
            "name": "日常巡查",
            "items": [
                {"code": "fire-exit", "label": "消防通道畅通", "category": "safety"},
                {"code": "stairwell", "label": "楼道无堆物", "category": "safety"},
                {"code": "facilities", "label": "公共设施完好", "category": "facilities"},
            ],
        }
    ],
    "communities": [
        {
            "code": "C1",
            "name": "万青社区",
            "grids": [
                {
                    "code": "C1-G1",
                    "name": "万青一网格",
                    "worker": "13900000031",
                    "boundary": G1,
                    "buildings": [{"code": "C1-G1-B1", "name": "1号楼", "location": [109.841, 40.651]}],
                },
                {
                    "code": "C1-G2",
                    "name": "万青二网格",
                    "worker": "13900000032",
                    "boundary": square(109.842, 40.650, 109.844, 40.652),
                },
                {
                    "code": "C1-G3",
                    "name": "万青三网格",
                    "worker": "13900000033",
                    "boundary": square(109.844, 40.650, 109.846, 40.652),
                },
                {"code": "C1-G4", "name": "万青四网格", "worker": "13900000034"},
            ],
        },
        {"code": "C2", "name": "青松社区", "grids": [{"code": "C2-G1", "name": "青松一网格"}]},
    ],
    "staff": [
        staff("13900000001", "测绘街道管理员", {"role": "tenant_admin"}),
        staff("13900000002", "万青社区管理员", {"role": "community_admin", "community": "C1"}),
        staff("13900000003", "青松社区管理员", {"role": "community_admin", "community": "C2"}),
        staff("13900000031", "网格员甲", {"role": "grid_worker"}),
        staff("13900000032", "网格员乙", {"role": "grid_worker"}),
        staff("13900000033", "网格员丙", {"role": "grid_worker"}),
        staff("13900000034", "网格员丁", {"role": "grid_worker"}),
    ],
}

ADMIN = "13900000001"
C1_ADMIN = "13900000002"
C2_ADMIN = "13900000003"
W1, W2, W3, W4 = "13900000031", "13900000032", "13900000033", "13900000034"
