"""The public list of events: one set of filters for the page and the API."""

from __future__ import annotations

from django.db.models import Q
from pydantic import Field

from renkei.events.models import Event, EventKind, EventQuerySet
from renkei.lib.actions import ActionError
from renkei.lib.inputs import Input
from renkei.regions.models import Municipality, SecondaryArea


class EventFilter(Input):
    """What a visitor narrows the upcoming events by."""

    kind: EventKind | None = Field(None, description="種類")
    municipality: str | None = Field(
        None, pattern=r"^[0-9]{6}$", description="開催市区町村のコード（政令市なら区を含む）"
    )
    area: int | None = Field(None, ge=1, le=2_147_483_647, description="二次医療圏のid")


def public_events(f: EventFilter) -> EventQuerySet:
    """Upcoming published events, soonest first. An unknown municipality or area is refused
    rather than answered with an empty list that looks like "nothing planned"."""
    qs: EventQuerySet = Event.objects.published().upcoming()
    if f.kind is not None:
        qs = qs.filter(kind=f.kind)
    if f.municipality is not None:
        muni = Municipality.objects.filter(code=f.municipality).first()
        if muni is None:
            raise ActionError(
                f"市区町村コードが見つかりません: {f.municipality}", field="municipality"
            )
        qs = qs.filter(Q(municipality=muni) | Q(municipality__parent=muni))
    if f.area is not None:
        area = SecondaryArea.objects.filter(pk=f.area).first()
        if area is None:
            raise ActionError("二次医療圏が見つかりません", field="area")
        qs = qs.filter(municipality__in=Municipality.objects.in_area(area))
    return qs.order_by("starts_at", "pk")
