"""iCalendar (RFC 5545) feeds of published shifts: a rota's, or one member's own."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from renkei.oncall.models import Rota, RotaMember, Shift

PAST_DAYS = 31
AHEAD_DAYS = 120


def feed(owner: Rota | RotaMember) -> bytes:
    now = timezone.now()
    shifts = Shift.objects.published().filter(
        ends_at__gte=now - dt.timedelta(days=PAST_DAYS),
        starts_at__lte=now + dt.timedelta(days=AHEAD_DAYS),
    )
    if isinstance(owner, Rota):
        shifts = shifts.filter(rota=owner)
        name = owner.name
    else:
        shifts = shifts.filter(member=owner)
        name = f"{owner.rota.name}（{owner}）"
    cal = Calendar()
    cal.add("prodid", "-//Renkei//oncall//JA")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    for s in shifts.select_related("rota", "member__organization").order_by("starts_at"):
        ev = Event()
        ev.add("uid", f"{s.code}@renkei")
        ev.add("dtstamp", now)
        ev.add("dtstart", s.starts_at)
        ev.add("dtend", s.ends_at)
        who = str(s.member) if s.member else "空き（当番未定）"
        ev.add("summary", f"{s.label}当番: {who}")
        desc = [s.rota.name]
        if s.member:
            desc.append(f"連絡先 {s.member.phone}")
        if s.holiday_name:
            desc.append(s.holiday_name)
        ev.add("description", " / ".join(desc))
        cal.add_component(ev)
    return bytes(cal.to_ical())
