"""The search's hand-written SQL (keys_sql, rows) against its ORM queryset, filter by filter.

FacilitySearch.queryset() serves the exports, the map and the HSDS/FHIR feeds; the search pages
and the JSON API read their page through keys_sql() for speed. Both must find the same
facilities in the same order with the same total, for every combination of filters.
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from renkei.directory.models import Capability, Facility, FacilityKind, VacancyStatus
from renkei.directory.search import FacilitySearch, SearchError
from renkei.regions.models import Municipality
from renkei.testing import make_facility

pytestmark = pytest.mark.django_db

# Fujisawa, Chigasaki and Kamakura; two wards of Yokohama and one of Kawasaki (designated
# cities, whose parent code must find them); Hayama (a town).
MUNICIPALITIES = ["142051", "142077", "142042", "141011", "141101", "141313", "143014"]
CAPS = ["suction", "oxygen", "drip", "tube-feeding", "insulin"]
KINDS = [FacilityKind.TOKUYO, FacilityKind.CLINIC, FacilityKind.GROUP_HOME, FacilityKind.HOSPITAL]
NAMES = ["さくら", "サクラ", "ｻｸﾗ", "みどり", "50%の丘", "あおば_east", "ひかり"]
VACANCIES = list(VacancyStatus.values)


def build_region(rng: random.Random) -> None:
    munis = {m.code: m for m in Municipality.objects.filter(code__in=MUNICIPALITIES)}
    for i in range(90):
        muni = munis[rng.choice(MUNICIPALITIES)]
        point = muni.point()
        assert point is not None
        located = rng.random() > 0.08
        name = f"{rng.choice(NAMES)}{i % 7}"
        make_facility(
            name,
            rng.choice(KINDS),
            municipality_code=muni.code,
            lat=point[0] + rng.gauss(0, 0.06) if located else None,
            lng=point[1] + rng.gauss(0, 0.06) if located else None,
            # Shared kana, so that the name sort has to break ties.
            kana=rng.choice(["さくら", "みどり", "あおば", ""]),
            capability_codes=rng.sample(CAPS, rng.randint(0, 4)),
            vacancy=rng.choice(VACANCIES),
            confirmed_days_ago=rng.choice([None, 0.5, 3, 3, 40, 200]),
            service_municipality_codes=rng.sample(MUNICIPALITIES, rng.randint(0, 2)),
            is_active=rng.random() > 0.1,
        )


def random_search(rng: random.Random, areas: list[int]) -> dict[str, Any]:
    p: dict[str, Any] = {}
    if rng.random() < 0.3:
        p["q"] = rng.choice(["さくら", "ｻｸﾗ", "ミドリ", "50%", "_east", "存在しない"])
    if rng.random() < 0.3:
        p["kind"] = rng.sample([str(k) for k in KINDS], rng.randint(1, 2))
    if rng.random() < 0.4:
        p["capability"] = rng.sample(CAPS, rng.randint(1, 3))
    if rng.random() < 0.2:
        p["municipality"] = rng.sample([*MUNICIPALITIES, "141003", "141305"], rng.randint(1, 2))
    if rng.random() < 0.2:
        p["area"] = rng.choice(areas)
    if rng.random() < 0.15:
        p["prefecture"] = rng.choice(["14", "14", "03"])
    if rng.random() < 0.3:
        p["vacancy"] = "1"
    if rng.random() < 0.2:
        p["serves"] = rng.choice(["藤沢市", "横浜市戸塚区", "神奈川県鎌倉市", "2510052"])
    if rng.random() < 0.6:
        p["lat"] = f"{35.34 + rng.uniform(-0.1, 0.15):.5f}"
        p["lng"] = f"{139.49 + rng.uniform(-0.1, 0.15):.5f}"
        if rng.random() < 0.7:
            p["radius_km"] = rng.choice(["2", "8", "15", "40"])
        p["sort"] = rng.choice(["distance", "name", "fresh", ""])
    else:
        p["sort"] = rng.choice(["name", "fresh", ""])
    p["per_page"] = rng.choice([3, 7, 20])
    p["page"] = rng.choice([1, 1, 2, 3, 9])
    return p


def test_pages_match_the_orm_queryset_for_every_filter() -> None:
    """300 random searches: results() and rows() give the ids, order and total of queryset()."""
    rng = random.Random(20261122)
    build_region(rng)
    areas = list(
        Municipality.objects.filter(code__in=MUNICIPALITIES)
        .exclude(secondary_area=None)
        .values_list("secondary_area_id", flat=True)
        .distinct()
    )
    checked = nonempty = 0
    for _ in range(300):
        params = random_search(rng, areas)
        try:
            s = FacilitySearch.from_querydict(QueryDict(urlencode(params, doseq=True)))
        except SearchError:
            continue
        qs = s.queryset()
        start = (s.page - 1) * s.per_page
        want_ids = list(qs.values_list("pk", flat=True)[start : start + s.per_page])
        want_total = qs.count()
        page, total = s.results()
        rows, rows_total = s.rows(["id", "name"])
        assert ([f.pk for f in page], total) == (want_ids, want_total), params
        assert ([r["id"] for r in rows], rows_total) == (want_ids, want_total), params
        assert [r["distance_km"] for r in rows] == [f.distance_km for f in page], params  # type: ignore[attr-defined]
        checked += 1
        nonempty += bool(want_ids)
    # The generator must exercise the paths, not only produce empty pages or refusals.
    assert checked > 250
    assert nonempty > 120


def test_rows_carry_the_columns_capabilities_and_municipality() -> None:
    """rows() gives each column as the ORM does (datetimes aware, booleans as bool), the
    capability codes in vocabulary order and the municipality's code and name."""
    f = make_facility(
        "甲",
        capability_codes=["suction", "drip"],
        accepts_dementia=True,
        vacancy=VacancyStatus.AVAILABLE,
        confirmed_days_ago=2,
    )
    rows, total = FacilitySearch.from_querydict(QueryDict("q=甲")).rows(
        ["code", "accepts_dementia", "vacancy_confirmed_at", "lat"]
    )
    assert total == 1
    [row] = rows
    assert row["code"] == f.code
    assert row["accepts_dementia"] is True
    assert row["vacancy_confirmed_at"] == f.vacancy_confirmed_at
    assert row["lat"] == f.lat
    assert row["municipality_code"] == "142051"
    assert row["municipality_name"] == "藤沢市"
    assert row["distance_km"] is None
    order = {c.code: (c.sort_order, c.code) for c in Capability.objects.all()}
    assert row["capability_codes"] == sorted(["suction", "drip"], key=order.__getitem__)
    assert set(row["capability_codes"]) == {
        c.code for c in Facility.objects.get(pk=f.pk).capabilities.all()
    }


def test_search_knows_a_capability_another_process_added(
    django_assert_num_queries: Any,
) -> None:
    """The vocabulary is shared in the process, but a capability it has not seen (added by
    another process, so no save here dropped it) is found by code and shown on facilities."""
    f = make_facility("甲", capability_codes=["suction"])
    FacilitySearch.from_querydict(QueryDict("capability=suction")).results()  # loads it
    with django_assert_num_queries(0):
        FacilitySearch.from_querydict(QueryDict("capability=suction"))
    bits = set(Capability.objects.values_list("bit", flat=True))
    free = min(b for b in range(63) if b not in bits)
    # bulk_create: no save(), as if written by another server process.
    [new] = Capability.objects.bulk_create([Capability(code="new-item", name="新項目", bit=free)])
    Facility.capabilities.through.objects.create(facility=f, capability=new)
    Facility.objects.filter(pk=f.pk).update(capability_mask=f.capability_mask | 1 << free)
    rows, total = FacilitySearch.from_querydict(QueryDict("capability=new-item")).rows(["id"])
    assert total == 1
    # sort_order 0 sorts before the built-in items, then by code.
    order = {c.code: (c.sort_order, c.code) for c in Capability.objects.all()}
    assert rows[0]["capability_codes"] == sorted(["suction", "new-item"], key=order.__getitem__)
    page, _ = FacilitySearch.from_querydict(QueryDict("capability=new-item")).results()
    assert {c.code for c in page[0].capabilities.all()} == {"suction", "new-item"}


def test_a_renamed_capability_shows_once_the_vocabulary_ages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rename in another process shows after VOCABULARY_SECONDS; one saved here at once."""
    from renkei.directory import models

    FacilitySearch.from_querydict(QueryDict("capability=suction"))
    Capability.objects.filter(code="suction").update(name="吸引（改）")
    assert models.vocabulary().by_code["suction"].name != "吸引（改）"
    monkeypatch.setattr(models, "VOCABULARY_SECONDS", 0.0)
    assert models.vocabulary().by_code["suction"].name == "吸引（改）"
    monkeypatch.setattr(models, "VOCABULARY_SECONDS", 3600.0)
    cap = Capability.objects.get(code="oxygen")
    cap.name = "酸素（改）"
    cap.save()
    assert models.vocabulary().by_code["oxygen"].name == "酸素（改）"
