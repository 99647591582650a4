"""「いまの当番」 for an area (issue 14 §1, ADR 0016): the published rotas covering a municipality
with the shift on now and the next one, for the phone page and /api/v1/oncall/now alike.

A fixed number of statements whatever the number of rotas: the municipality with its 二次医療圏
(one), the covering rotas (one), the shifts now and next of all of them (one, `actions.on_duty`).
The page's municipality selector lists a prefecture's municipalities, which change a few times a
year: each process keeps the list for CHOICES_SECONDS, as the directory's search form does."""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models import QuerySet

from renkei.oncall.models import Rota
from renkei.regions.models import Municipality

CHOICES_SECONDS = 60.0
_choices: dict[int | None, tuple[float, list[Municipality]]] = {}


def forget_choices() -> None:
    _choices.clear()


def municipality_choices(prefecture_id: int | None) -> list[Municipality]:
    """The selector's municipalities (code and name) of one prefecture: the chosen
    municipality's, else the member organisation's, else HOME_PREFECTURE (never the nation's
    1,900 on a phone)."""
    cached = _choices.get(prefecture_id)
    if cached is not None and time.monotonic() - cached[0] < CHOICES_SECONDS:
        return cached[1]
    qs = Municipality.objects.selectable().only("pk", "code", "name").order_by("code")
    if prefecture_id:
        qs = qs.filter(prefecture_id=prefecture_id)
    else:
        qs = qs.filter(prefecture__code=settings.HOME_PREFECTURE)
    found = list(qs)
    _choices[prefecture_id] = (time.monotonic(), found)
    return found


def find_municipality(code: str = "", pk: int | None = None) -> Municipality | None:
    """The municipality by its code (or id), with what `Rota.objects.covering` reads of it."""
    if not (code.isdigit() or (pk and not code)):
        return None
    qs = Municipality.objects.select_related("secondary_area", "parent__secondary_area")
    return qs.filter(**({"code": code} if code else {"pk": pk})).first()


def covering(municipality: Municipality) -> QuerySet[Rota]:
    return Rota.objects.covering(municipality).select_related("organizer", "area")
