"""Places on a map: grid boundaries, building points, and how far a position is from a grid.

Coordinates are GCJ-02 longitude/latitude, as Chinese map SDKs (AMap, Tencent, WeChat's
`wx.getLocation({type: "gcj02"})`) hand them out and draw them. GCJ-02 is WGS-84 shifted by an
offset that varies slowly over kilometres, so lengths measured in it within a town are the same
as on the ground to well under a metre: no conversion is needed to measure, only to mix with
WGS-84 data, which we never do.

Degrees are not metres, and a degree of longitude at Baotou (40.65°N) is only three quarters of
a degree of latitude. Distances are therefore measured in a local projection centred on the
position: east and north offsets scaled by the ellipsoid's radii of curvature at that latitude.
Within the few kilometres a grid spans, that is within centimetres of the geodesic distance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import shapely
from shapely import Point, Polygon
from shapely.validation import explain_validity

# WGS-84 ellipsoid (GCJ-02 shares it).
_A = 6_378_137.0
_E2 = 6.694_379_990_14e-3


class GeoPoint(NamedTuple):
    longitude: float
    latitude: float


def in_china(point: GeoPoint) -> bool:
    """Mainland China's extent: a point outside it is a client's mistake (swapped, or zero)."""
    return 73.4 <= point.longitude <= 135.1 and 3.8 <= point.latitude <= 53.6


class BoundaryError(ValueError):
    pass


def polygon_of(geojson: dict[str, Any]) -> Polygon:
    """A GeoJSON Polygon (`{"type": "Polygon", "coordinates": [outer ring, holes...]}`, each
    ring closed, [longitude, latitude] pairs) as a valid shape, or BoundaryError saying why not."""
    if geojson.get("type") != "Polygon":
        raise BoundaryError("应为 GeoJSON Polygon")
    rings = geojson.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise BoundaryError("coordinates 应为至少一个环")
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
            raise BoundaryError("每个环至少 4 个点，且首尾相同")
        for pair in ring:
            if not (isinstance(pair, list | tuple) and len(pair) == 2 and in_china(GeoPoint(*pair))):
                raise BoundaryError("每个点应为中国境内的 [经度, 纬度]")
    shape = Polygon(rings[0], rings[1:])
    if not shape.is_valid:
        raise BoundaryError(f"边界不是有效的多边形：{explain_validity(shape)}")
    return shape


def rings_of(geojson: dict[str, Any]) -> list[list[GeoPoint]]:
    return [[GeoPoint(lon, lat) for lon, lat in ring] for ring in geojson["coordinates"]]


def _metres_per_degree(latitude: float) -> tuple[float, float]:
    """Metres east and north per degree on the ellipsoid's tangent plane at `latitude`: the
    prime-vertical radius times cos φ scales longitude, the meridian radius latitude."""
    phi = math.radians(latitude)
    w = math.sqrt(1 - _E2 * math.sin(phi) ** 2)
    prime_vertical = _A / w
    meridian = _A * (1 - _E2) / w**3
    return math.radians(1) * prime_vertical * math.cos(phi), math.radians(1) * meridian


def distance_metres(point: GeoPoint, shape: Polygon) -> float:
    """0 inside (or on the edge); else metres to the nearest point of the boundary, measured on
    the plane tangent at the point."""
    scale = np.array(_metres_per_degree(point.latitude))
    origin = np.array(point)
    projected = shapely.transform(shape, lambda coordinates: (coordinates - origin) * scale)
    return float(projected.distance(Point(0.0, 0.0)))


def between_metres(a: GeoPoint, b: GeoPoint) -> float:
    east, north = _metres_per_degree(a.latitude)
    return math.hypot((b.longitude - a.longitude) * east, (b.latitude - a.latitude) * north)


class Nearest(NamedTuple):
    key: Any
    distance_metres: float


def nearest(point: GeoPoint, shapes: Sequence[tuple[Any, Polygon]]) -> Nearest | None:
    """The shape the point is in, or else the closest one; None when there are no shapes."""
    best: Nearest | None = None
    for key, shape in shapes:
        found = Nearest(key, distance_metres(point, shape))
        if best is None or found.distance_metres < best.distance_metres:
            best = found
    return best
