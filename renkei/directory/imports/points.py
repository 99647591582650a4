"""Points for the wards of the 政令市 from the facilities in them (ADR 0041).

The shipped municipality points (regions/data/municipality-points.json) have none for the wards
outside Kanagawa, which then start a distance search from their city's office: for a postal code
in 札幌市南区, 10 km from 札幌市役所, the nearest facilities would be the wrong ones. Once an import
has placed a ward's facilities, the centroid of their positions stands in for the ward.
"""

from __future__ import annotations

from django.db.models import Avg, Count, F

from renkei.directory.models import Facility
from renkei.regions.models import Municipality

MIN_FACILITIES = 5


def ward_points_from_facilities(min_facilities: int = MIN_FACILITIES) -> int:
    """Give each ward without a point the centroid of its active facilities' positions (at least
    `min_facilities`), leaving out those placed at the city's own point for want of coordinates.
    Wards that have a point keep it. Returns how many wards got one."""
    centroids = (
        Facility.objects.filter(
            is_active=True,
            lat__isnull=False,
            lng__isnull=False,
            municipality__parent__isnull=False,
            municipality__lat__isnull=True,
        )
        .exclude(lat=F("municipality__parent__lat"), lng=F("municipality__parent__lng"))
        .values("municipality_id")
        .annotate(n=Count("id"), lat=Avg("lat"), lng=Avg("lng"))
        .filter(n__gte=min_facilities)
    )
    wards = []
    for row in centroids:
        wards.append(
            Municipality(
                id=row["municipality_id"], lat=round(row["lat"], 5), lng=round(row["lng"], 5)
            )
        )
    Municipality.objects.bulk_update(wards, ["lat", "lng"], batch_size=500)
    return len(wards)
