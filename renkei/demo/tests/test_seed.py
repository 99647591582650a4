"""The demo region: deterministic, complete, plausible, idempotent, and usable by its people."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from io import StringIO

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Q
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from renkei.accounts.models import Membership, Organization, OrgKind, Role, TwoFactorPolicy, User
from renkei.demo import seed
from renkei.demo.authenticators import demo_secrets, totp_secret
from renkei.demo.common import DEMO_SOURCE
from renkei.demo.directory import capability_mask, plan_facilities
from renkei.demo.organizations import DEMO_LOGINS, OWN_FACILITIES
from renkei.demo.places import load_places
from renkei.directory.models import (
    Facility,
    FacilityKind,
    FacilityService,
    VacancyStatus,
    Ward,
)
from renkei.directory.search import FacilitySearch, municipality_for_postal
from renkei.directory.vocabulary import KAIGO_SERVICE_KIND
from renkei.lib.geo import distance_km
from renkei.regions.loader import WARD_POINTS
from renkei.regions.models import SecondaryArea
from renkei.testing import DEMO_PASSWORD, sign_in, totp_code

pytestmark = pytest.mark.django_db

N = 150
NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)
LOGIN = reverse("accounts:login")


@pytest.fixture
def region() -> seed.SeedReport:
    return seed.seed_demo(facilities=N, now=NOW)


def demo_facilities() -> list[Facility]:
    return list(
        Facility.objects.filter(source=DEMO_SOURCE, is_active=True)
        .select_related("municipality", "municipality__parent")
        .prefetch_related("capabilities", "services", "wards", "service_municipalities")
        .order_by("code")
    )


def region_digest() -> str:
    rows = [
        (
            str(f.code), f.kind, f.name, f.kana, f.municipality.code, f.postal_code, f.address,
            f.lat, f.lng, f.phone, f.fax, f.medical_id, f.care_office_number,
            sorted(c.code for c in f.capabilities.all()), f.vacancy_status, f.vacancy_count,
            f.vacancy_confirmed_at, f.care_level_min, f.care_level_max, f.cost_min, f.cost_max,
            f.capacity, f.beds, f.service_radius_km,
            sorted(m.code for m in f.service_municipalities.all()),
            sorted((w.kind, w.beds, w.vacant_beds) for w in f.wards.all()),
            sorted((s.service_code, s.capacity) for s in f.services.all()),
        )
        for f in demo_facilities()
    ]  # fmt: skip
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def demo_sign_in(username: str) -> Client:
    """The password, then the code of the secret the logins table prints for this account
    (when it needs a second factor), through the real forms."""
    client = Client()
    response = client.post(LOGIN, {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, username
    secret = demo_secrets([username]).get(username)
    if secret is not None:
        key = base64.b32decode(secret).hex()
        verify = client.post(reverse("accounts:otp_verify"), {"token": totp_code(key)})
        assert verify.status_code == 302, username
    return client


def test_same_seed_gives_the_same_region() -> None:
    """Seeding, wiping and seeding again yields identical facilities, codes and coordinates."""
    seed.seed_demo(facilities=N, now=NOW)
    first = region_digest()
    seed.reset_demo()
    assert not Facility.objects.filter(source=DEMO_SOURCE).exists()
    seed.seed_demo(facilities=N, now=NOW)
    assert region_digest() == first
    assert len(demo_facilities()) == N + len(OWN_FACILITIES)


def test_planning_is_pure_and_varied() -> None:
    """The facility plan depends only on the places and the count, and its names are distinct."""
    places = load_places()
    a = plan_facilities(places, 300)
    b = plan_facilities(places, 300)
    assert [(p.code, p.name, p.lat, p.lng, p.address) for p in a] == [
        (p.code, p.name, p.lat, p.lng, p.address) for p in b
    ]
    assert len({p.name for p in a}) == 300
    assert len({(p.lat, p.lng) for p in a}) == 300


def test_every_kind_role_and_organisation_kind_is_present(region: seed.SeedReport) -> None:
    """All facility kinds, all roles and all organisation kinds (each with a member) exist."""
    assert set(region.by_kind) == set(FacilityKind.values)
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    member_org_kinds = set(Membership.objects.values_list("organization__kind", flat=True))
    assert member_org_kinds == set(OrgKind.values)
    cities = Organization.objects.filter(kind=OrgKind.MUNICIPALITY)
    assert cities.count() == 33
    assert User.objects.filter(username="admin", is_staff=True, is_superuser=True).exists()


def test_every_secondary_area_has_facilities(region: seed.SeedReport) -> None:
    """Each of Kanagawa's nine 二次医療圏 has demo facilities."""
    areas = SecondaryArea.objects.filter(prefecture__code="14")
    assert areas.count() == 9
    for area in areas:
        in_area = Q(municipality__secondary_area=area) | Q(
            municipality__parent__secondary_area=area
        )
        assert Facility.objects.filter(in_area, source=DEMO_SOURCE).exists(), area.name


def test_facilities_lie_in_their_municipality(region: seed.SeedReport) -> None:
    """Coordinates stay within 10 km of the municipality, and address and postal code agree.

    Yokohama's and Sagamihara's wards have no point of their own in the reference data, so
    their facilities are measured from the seed's ward-office point, which in turn must lie
    within the city.
    """
    for f in demo_facilities():
        m = f.municipality
        assert f.lat is not None and f.lng is not None
        if m.lat is not None and m.lng is not None:
            anchor = (m.lat, m.lng)
        else:
            anchor = WARD_POINTS[m.code]
            city = m.point()
            assert city is not None
            assert distance_km(*anchor, *city) < 20, m.name
        assert distance_km(*anchor, f.lat, f.lng) <= 10, (f.name, m.name)
        assert f.address.startswith(m.name), f.address
        assert re.fullmatch(r"2[0-9]{2}-[0-9]{4}", f.postal_code), f.postal_code
        assert municipality_for_postal(f.postal_code) == m, (f.postal_code, m.name)


def test_every_facility_passes_model_validation(region: seed.SeedReport) -> None:
    """Bulk-written rows satisfy the model's own validators and its derived fields.

    Phone formats, 13-digit 医療機関ID, 10-digit 事業所番号, care-level and cost order, the
    capability bit mask, search text and grid cell must match what the model computes.
    """
    for f in demo_facilities():
        f.full_clean()
        assert f.capability_mask == capability_mask(c.bit for c in f.capabilities.all())
        stored = (f.search_text, f.geo_cell)
        f.refresh_derived()
        assert (f.search_text, f.geo_cell) == stored
        assert re.fullmatch(r"[\u30a0-\u30ff 0-9]+", f.kana), f.kana
        assert re.fullmatch(r"0[0-9]{2,3}-00{1,2}-[0-9]{4}", f.phone), f.phone


def test_hospital_wards_add_up_and_vacancies_vary_in_freshness(region: seed.SeedReport) -> None:
    """Hospital beds are the sum of their wards; vacancies range from fresh to stale."""
    hospitals = Facility.objects.filter(source=DEMO_SOURCE, kind=FacilityKind.HOSPITAL)
    assert hospitals.exists()
    for h in hospitals:
        assert h.beds == sum(Ward.objects.filter(facility=h).values_list("beds", flat=True))
    statuses = set(Facility.objects.values_list("vacancy_status", flat=True))
    assert statuses == set(VacancyStatus.values)
    confirmed = Facility.objects.exclude(vacancy_confirmed_at=None)
    ages = [NOW - at for at in confirmed.values_list("vacancy_confirmed_at", flat=True) if at]
    assert min(ages) < dt.timedelta(days=1)
    assert max(ages) > dt.timedelta(days=30)
    assert max(ages) <= dt.timedelta(days=90)


def test_kind_is_that_of_the_highest_priority_service(region: seed.SeedReport) -> None:
    """Services follow the importer's rule: a facility's kind is its top service's kind."""
    by_facility: dict[int, list[str]] = {}
    for s in FacilityService.objects.all():
        by_facility.setdefault(s.facility_id, []).append(s.service_code)
    assert by_facility
    kinds = dict(Facility.objects.values_list("pk", "kind"))
    for pk, codes in by_facility.items():
        top = max(codes, key=lambda c: KAIGO_SERVICE_KIND[c][1])
        assert KAIGO_SERVICE_KIND[top][0] == kinds[pk], codes


def test_kana_search_finds_a_demo_facility(region: seed.SeedReport) -> None:
    """Searching in hiragana finds the demo 特養 by its katakana reading."""
    items, _ = FacilitySearch.from_querydict(QueryDict("q=わかばのさと")).results()
    assert "特別養護老人ホーム 若葉の里" in [f.name for f in items]


def test_second_run_creates_nothing() -> None:
    """Running the command again reports the existing demo and adds no rows."""
    call_command("seed_demo", "--facilities", "60", stdout=StringIO())
    counts = [m.objects.count() for m in (Facility, Organization, User, Membership, Ward)]
    out = StringIO()
    call_command("seed_demo", "--facilities", "60", stdout=out)
    assert [m.objects.count() for m in (Facility, Organization, User, Membership, Ward)] == counts
    assert "作成済み" in out.getvalue()
    assert "msw" in out.getvalue() and DEMO_PASSWORD in out.getvalue()


def test_each_login_needing_a_second_factor_has_its_secret_on_its_line() -> None:
    """The logins table prints the base32 secret on the line of every account that must use a
    second factor (administrators, desk, events, care …), and the device holds that key."""
    out = StringIO()
    call_command("seed_demo", "--facilities", "40", stdout=out)
    lines = out.getvalue().splitlines()
    required = [u for u in User.objects.filter(is_active=True) if TwoFactorPolicy.required_for(u)]
    assert {"admin", "desk-counselor", "events-ebina", "care-doctor"} <= {
        u.username for u in required
    }
    for user in required:
        listed = [line for line in lines if line.startswith(f"{user.username} ")]
        if not listed:
            continue  # an account the table does not list (the bulk facilities' staff)
        secret = totp_secret(user.username)
        assert secret in listed[0], user.username
        assert base64.b32decode(secret).hex() == TOTPDevice.objects.get(user=user, name="デモ").key


def test_every_demo_user_can_sign_in(region: seed.SeedReport) -> None:
    """Each listed login signs in through the real form with the shared demo password."""
    for login in DEMO_LOGINS:
        client = demo_sign_in(login.username)
        assert client.session.get(SESSION_KEY) is not None
        # Signed in fully: the second factor, when required, is passed with the printed secret.
        assert client.get(reverse("accounts:profile")).status_code == 200, login.username


def test_facility_staff_edit_their_own_facility_and_outsiders_get_404(
    region: seed.SeedReport,
) -> None:
    """Staff reach their facility's edit page; another organisation's member gets 404."""
    own: dict[str, Facility] = {}
    for f in Facility.objects.filter(organization__isnull=False):
        first = Membership.objects.filter(organization=f.organization).order_by("pk").first()
        assert first is not None, f.name
        own[first.user.username] = f
    assert len(own) == len(OWN_FACILITIES)
    for username, facility in own.items():
        client = Client()
        sign_in(client, User.objects.get(username=username))
        edit = reverse("directory:edit", args=[facility.code])
        assert client.get(edit).status_code == 200, username
    outsider = Client()
    sign_in(outsider, User.objects.get(username="caremanager"))
    hospital = Facility.objects.get(organization__memberships__user__username="msw")
    assert outsider.get(reverse("directory:edit", args=[hospital.code])).status_code == 404


def test_city_office_curates_only_its_own_municipality(region: seed.SeedReport) -> None:
    """藤沢市's officer may edit a 藤沢 facility but gets 404 for one in 平塚."""
    client = Client()
    sign_in(client, User.objects.get(username="city-fujisawa"))
    demo = Facility.objects.filter(source=DEMO_SOURCE, organization__isnull=True)
    fujisawa = demo.filter(municipality__code="142051").first()
    hiratsuka = demo.filter(municipality__code="142034").first()
    assert fujisawa is not None and hiratsuka is not None
    assert client.get(reverse("directory:edit", args=[fujisawa.code])).status_code == 200
    assert client.get(reverse("directory:edit", args=[hiratsuka.code])).status_code == 404


def test_reset_recreates_the_demo_even_after_sign_ins(region: seed.SeedReport) -> None:
    """--reset works although the audit log references the old accounts, which are retired."""
    demo_sign_in("msw")
    old = User.objects.get(username="msw")
    out = StringIO()
    call_command("seed_demo", "--reset", "--facilities", "40", stdout=out)
    assert "無効化" in out.getvalue()
    old.refresh_from_db()
    assert old.is_active is False and old.username != "msw"
    assert not old.memberships.exists()
    assert seed.demo_present()
    active = Facility.objects.filter(source=DEMO_SOURCE, is_active=True)
    assert active.count() == 40 + len(OWN_FACILITIES)
    demo_sign_in("msw")


def test_bad_facility_count_is_refused_and_changes_nothing() -> None:
    """A negative --facilities stops with a Japanese message before anything is created."""
    with pytest.raises(CommandError, match="0〜"):
        call_command("seed_demo", "--facilities", "-5", stdout=StringIO())
    assert not Facility.objects.exists()
    assert not Organization.objects.exists()


def test_existing_demo_username_is_refused_and_changes_nothing() -> None:
    """A non-demo account named like a demo login stops the seed with a clear message."""
    User.objects.create(username="msw")
    with pytest.raises(CommandError, match="msw"):
        call_command("seed_demo", "--facilities", "10", stdout=StringIO())
    assert not Facility.objects.exists()
    assert not Organization.objects.exists()


def test_feature_demos_give_every_listed_login_and_are_idempotent(region: seed.SeedReport) -> None:
    """The placement, desk, events and 同行研修 demos create their logins once; a rerun adds nothing."""
    from renkei.desk.models import Consultation
    from renkei.events.models import Event
    from renkei.referrals.models import PlacementCase

    rows = seed.seed_feature_demos()
    assert [r[0] for r in rows] == [u for u, _ in seed.FEATURE_LOGINS]
    counts = (PlacementCase.objects.count(), Consultation.objects.count(), Event.objects.count())
    assert all(counts)
    seed.seed_feature_demos()
    assert (
        PlacementCase.objects.count(),
        Consultation.objects.count(),
        Event.objects.count(),
    ) == counts
