"""Distances and a coarse grid index that work the same on SQLite and PostgreSQL.

No PostGIS: a facility stores the 0.1-degree grid cell it lies in, a radius search
selects the cells that cover the circle (an indexed IN), and distance is the
equirectangular approximation, which is arithmetic only (SQLite has no trig
functions) and within 0.1 % of the great-circle distance below 50 km.
"""

from __future__ import annotations

import math

KM_PER_DEG_LAT = 111.32
CELL_DEG = 0.1
_CELL_COLS = 10_000  # cells per row; longitude index 0..3600 fits


def cell_of(lat: float, lng: float) -> int:
    return int(math.floor(lat / CELL_DEG) + 1000) * _CELL_COLS + int(
        math.floor(lng / CELL_DEG) + 2000
    )


def cells_covering(lat: float, lng: float, radius_km: float) -> list[int]:
    """The cells that hold every point within radius_km of (lat, lng), by the metric of the
    search's distance filter (lng_scale at `lat`). Corner cells of the bounding box that the
    circle does not reach are left out: about one in eight, fewer rows for the index to read."""
    ky, kx = KM_PER_DEG_LAT, KM_PER_DEG_LAT * max(math.cos(math.radians(lat)), 0.01)
    dlat, dlng = radius_km / ky, radius_km / kx
    r0, r1 = math.floor((lat - dlat) / CELL_DEG), math.floor((lat + dlat) / CELL_DEG)
    c0, c1 = math.floor((lng - dlng) / CELL_DEG), math.floor((lng + dlng) / CELL_DEG)
    # A little slack for the rounding of the cell edges.
    reach = (radius_km + 0.01) ** 2
    cells = []
    for r in range(r0, r1 + 1):
        dy = (min(max(lat, r * CELL_DEG), (r + 1) * CELL_DEG) - lat) * ky
        for c in range(c0, c1 + 1):
            dx = (min(max(lng, c * CELL_DEG), (c + 1) * CELL_DEG) - lng) * kx
            if dx * dx + dy * dy <= reach:
                cells.append((r + 1000) * _CELL_COLS + (c + 2000))
    return cells


def lng_scale(lat: float) -> float:
    """Kilometres per degree of longitude at this latitude."""
    return KM_PER_DEG_LAT * math.cos(math.radians(lat))


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    dy = (lat2 - lat1) * KM_PER_DEG_LAT
    dx = (lng2 - lng1) * lng_scale((lat1 + lat2) / 2)
    return math.hypot(dx, dy)
