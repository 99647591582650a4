"""Cover-chain benchmark (issue 14 §4): the chain of every patient of a region recomputed for a
month, and 「いまの当番」 for an area.

    python bench/oncall_bench.py                  # PostgreSQL renkei_bench_oncall (created, migrated)
    python bench/oncall_bench.py --sqlite /tmp/oncall_bench.sqlite3
    python bench/oncall_bench.py --patients 10000 --clinics 300 --hospitals 20 --requests 300

Targets: 10,000 patients, 300 clinics, 20 hospitals — the month's chains (month_chains: every
patient, every moment, as periods) in <= 10 s; 「いまの当番」 for a municipality p95 <= 30 ms, on
the API (/api/v1/oncall/now) and the phone page (/oncall/now/), in process with a signed-in
client. The region is 神奈川 県央 (二次医療圏): a 医師会 night rota of the 300 clinics and a
hospital rota of the 20 hospitals, both published for the month; every patient has a 主治医 and a
副主治医, 30 clinics are away for a night, one patient in five has an accepted backup bed.
「いまの当番」 is measured twice in the same run: "before" (the per-rota lookup and the selector
read on every request, as before session 7) and "after" (the code as it is), with the
statements of one request and the process's CPU per request.
The data is written in bulk (not through the actions: 10,000 patients through the care actions
would take longer than the measurement); the measured code paths are the real ones.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/renkei_bench_oncall"
MARK = "ベンチ"  # every organisation this script makes starts with it


def configure(sqlite: str | None) -> None:
    if sqlite:
        os.environ["DATABASE_URL"] = f"sqlite:///{sqlite}"
    os.environ.setdefault("DATABASE_URL", DEFAULT_PG)
    os.environ["DEBUG"] = "False"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    os.environ["SECURE_SSL_REDIRECT"] = "False"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    # Bench-only keys for the sealed patient fields (fixed, so a reused database still opens).
    os.environ.setdefault(
        "FIELD_ENCRYPTION_KEYS", "bench:" + "QkVOQ0gta2V5LWZvci1vbmNhbGwtYmVuY2gtMDAwMDA="
    )
    os.environ.setdefault("BLIND_INDEX_KEY", "QkVOQ0gtaW5kZXgtZm9yLW9uY2FsbC1iZW5jaC0wMDA=")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    if os.environ["DATABASE_URL"].startswith("postgres"):
        _create_pg(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # The phone page names its static files through the manifest (DEBUG off): collect them.
    call_command("collectstatic", interactive=False, verbosity=0)


def _create_pg(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def pct(values: list[float], q: float) -> float:
    data = sorted(values)
    pos = (len(data) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def build(
    n_patients: int, n_clinics: int, n_hospitals: int, month: dt.date, distinct: bool
) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from renkei.accounts.models import Membership, Organization, OrgKind, Role, User
    from renkei.care.models import Consent, ConsentScope, Patient
    from renkei.care.models.patients import kana_birth_key
    from renkei.oncall import actions
    from renkei.oncall.models import (
        Absence,
        BackupBedOffer,
        BackupBedRegistration,
        BedScheme,
        CoverAgreement,
        RegistrationStatus,
        RotaKind,
    )
    from renkei.oncall.testing import HOSPITAL_RULES, NIGHT_RULES
    from renkei.regions.models import Municipality, SecondaryArea

    area = SecondaryArea.objects.get(prefecture__code="14", name="県央")
    munis = list(Municipality.objects.in_area(area).order_by("code"))
    if Patient.objects.filter(owner__name__startswith=MARK).count() >= n_patients:
        return {"area": area, "munis": munis, "reused": True}
    t0 = time.perf_counter()
    with transaction.atomic():
        ishikai = Organization.objects.create(
            name=f"{MARK}県央医師会", kind=OrgKind.MEDICAL_ASSOCIATION, municipality=munis[0]
        )
        user = User.objects.create_user(username=f"bench-oncall-{int(time.time())}", password="x")
        organiser = Membership.objects.create(user=user, organization=ishikai, role=Role.DOCTOR)
        clinics = Organization.objects.bulk_create(
            Organization(
                name=f"{MARK}在宅クリニック{i:03d}",
                kind=OrgKind.CLINIC,
                municipality=munis[i % len(munis)],
                phone=f"046-2{i // 100:02d}-{i % 10000:04d}",
            )
            for i in range(n_clinics)
        )
        hospitals = Organization.objects.bulk_create(
            Organization(
                name=f"{MARK}病院{i:02d}", kind=OrgKind.HOSPITAL, municipality=munis[i % len(munis)]
            )
            for i in range(n_hospitals)
        )
        if not all(o.pk for o in clinics + hospitals):  # SQLite without RETURNING
            clinics = list(
                Organization.objects.filter(name__startswith=f"{MARK}在宅").order_by("pk")
            )
            hospitals = list(
                Organization.objects.filter(name__startswith=f"{MARK}病院").order_by("pk")
            )
        staff = Membership.objects.create(user=user, organization=clinics[0], role=Role.DOCTOR)
        for name, kind, members, rules in (
            (f"{MARK}県央 夜間・休日当番", RotaKind.NIGHT_HOLIDAY, clinics, NIGHT_RULES),
            (f"{MARK}県央 病院当番", RotaKind.HOSPITAL, hospitals, HOSPITAL_RULES),
        ):
            rota = actions.save_rota(
                by=organiser, data=actions.RotaInput(name=name, kind=kind, area_id=area.pk)
            )
            rota.members.bulk_create(
                [
                    rota.members.model(
                        rota=rota,
                        organization=o,
                        phone=f"046-9{j // 1000:02d}-{j:04d}",
                        sort_order=j,
                    )
                    for j, o in enumerate(members)
                ]
            )
            for day_type, label, start, end in rules:
                actions.add_rule(
                    rota,
                    by=organiser,
                    data=actions.RuleInput(
                        day_type=day_type,
                        label=label,
                        start=dt.time.fromisoformat(start),
                        end=dt.time.fromisoformat(end),
                    ),
                )
            data = actions.MonthInput(month=f"{month:%Y-%m}")
            actions.generate_month(rota, by=organiser, data=data)
            actions.publish_month(rota, by=organiser, data=data)
        birth = dt.date(1940, 1, 1)
        patients = Patient.objects.bulk_create(
            Patient(
                owner=clinics[i % n_clinics],
                name=f"ベンチ 患者{i:05d}",
                kana=f"べんち かんじゃ{i:05d}",
                birth_date=birth,
                kana_birth_index=kana_birth_key(f"べんち かんじゃ{i:05d}", birth),
                created_by=user,
            )
            for i in range(n_patients)
        )
        if not all(p.pk for p in patients):
            patients = list(Patient.objects.filter(owner__name__startswith=MARK).order_by("pk"))
        # Each clinic's patients live around it and share its 副主治医 partner (a clinic half the
        # list away); --distinct gives every patient its own terms (the chains share nothing).
        CoverAgreement.objects.bulk_create(
            CoverAgreement(
                patient=p,
                primary=clinics[i % n_clinics],
                primary_phone=f"046-1{i // 10000:02d}-{i % 10000:04d}"
                if distinct
                else "046-100-0001",
                night_arrangement="院長携帯",
                night_phone="090-1000-0001",
                secondary=clinics[(i + n_clinics // 2) % n_clinics],
                secondary_phone="046-100-0002",
                municipality=clinics[i % n_clinics].municipality,
                valid_from=month - dt.timedelta(days=90),
                created_by=user,
            )
            for i, p in enumerate(patients)
        )
        night = dt.datetime.combine(
            month + dt.timedelta(days=9), dt.time(18), timezone.get_current_timezone()
        )
        Absence.objects.bulk_create(
            Absence(
                organization=clinics[i * 10],
                starts_at=night,
                ends_at=night + dt.timedelta(hours=15),
                created_by=user,
            )
            for i in range(min(30, n_clinics // 10))
        )
        offers = BackupBedOffer.objects.bulk_create(
            BackupBedOffer(
                hospital=h,
                scheme=BedScheme.SUPPORT_HOSPITAL,
                name=f"{h.name} 後方ベッド",
                phone="046-300-0001",
            )
            for h in hospitals
        )
        if not all(o.pk for o in offers):
            offers = list(BackupBedOffer.objects.filter(hospital__in=hospitals).order_by("pk"))
        bed_patients = patients[::5]
        consents = Consent.objects.bulk_create(
            Consent(
                patient=p,
                scope=ConsentScope.ALL,
                purpose="在宅療養を支える情報共有",
                given_by="本人",
                valid_from=month - dt.timedelta(days=90),
                recorded_by=staff,
            )
            for p in bed_patients
        )
        if not all(c.pk for c in consents):
            consents = list(Consent.objects.filter(patient__in=bed_patients).order_by("patient_id"))
        now = timezone.now()
        BackupBedRegistration.objects.bulk_create(
            BackupBedRegistration(
                patient=p,
                offer=offers[(i * 5) % n_clinics % len(offers)],
                hospital=offers[(i * 5) % n_clinics % len(offers)].hospital,
                clinic=p.owner,
                consent=c,
                registered_by=staff,
                status=RegistrationStatus.ACCEPTED,
                last_exchange_at=now,
            )
            for i, (p, c) in enumerate(zip(bed_patients, consents, strict=True))
        )
    print(f"built the region in {time.perf_counter() - t0:.1f} s", flush=True)
    return {"area": area, "munis": munis, "reused": False}


def _on_duty_per_rota(rotas: Any, moment: dt.datetime) -> list[tuple[Any, Any, Any]]:
    """「いまの当番」 as it was before session 7: two statements per rota."""
    from renkei.oncall.models import Shift

    out = []
    for rota in rotas:
        published = (
            Shift.objects.published().filter(rota=rota).select_related("member__organization")
        )
        now = published.at(moment).order_by("starts_at").first()
        nxt = (
            published.filter(starts_at__gte=(now.ends_at if now else moment))
            .order_by("starts_at")
            .first()
        )
        out.append((rota, now, nxt))
    return out


@contextlib.contextmanager
def _variant(name: str, prefecture_id: int | None) -> Iterator[None]:
    """ "after" is the code as it is; "before" puts back the per-rota lookup and the selector
    read on every request (the organisation's prefecture, or all the nation's municipalities
    when it has none), so both are measured in the same run."""
    if name == "after":
        yield
        return
    from renkei.oncall import actions
    from renkei.oncall import now as now_
    from renkei.regions.models import Municipality

    def every_time(_pid: int | None) -> list[Any]:
        qs = Municipality.objects.selectable()
        return list(qs.filter(prefecture_id=prefecture_id) if prefecture_id else qs)

    with (
        mock.patch.object(actions, "on_duty", _on_duty_per_rota),
        mock.patch.object(now_, "municipality_choices", every_time),
    ):
        yield


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqlite")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--clinics", type=int, default=300)
    parser.add_argument("--hospitals", type=int, default=20)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--distinct", action="store_true", help="every patient its own terms (worst case)"
    )
    args = parser.parse_args()
    configure(args.sqlite)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.calibrate import python_loop_seconds
    from renkei.accounts.models import Membership
    from renkei.care.models import Patient
    from renkei.oncall import cover

    load = os.getloadavg()
    print(f"database {connection.vendor}; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"cpu calibration: a fixed Python loop took {python_loop_seconds():.2f} s")
    today = timezone.localdate()
    month = today.replace(day=1)
    world = build(args.patients, args.clinics, args.hospitals, month, args.distinct)
    region = Patient.objects.filter(owner__name__startswith=MARK)
    ids = list(region.values_list("pk", flat=True))
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            chains = cover.month_chains(region, month)
        times.append(time.perf_counter() - t0)
    periods = sum(len(v) for v in chains.values())
    lines = sum(len(p.steps) for v in chains.values() for p in v)
    distinct = len({id(v) for v in chains.values()})
    print(
        f"month_chains: {len(ids)} patients ({distinct} distinct chains), {periods} periods, "
        f"{lines} lines, "
        f"{len(queries)} queries; runs {', '.join(f'{t:.2f}' for t in times)} s "
        f"(best {min(times):.2f} s, target <= 10 s)"
    )

    member = Membership.objects.filter(organization__name__startswith=MARK, role="doctor").first()
    assert member is not None
    client = Client()
    client.force_login(member.user)
    # A doctor reads named data, so signs in with a second factor (ADR 0043): a verified session.
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=member.user, name="bench", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    code = world["munis"][1].code
    for variant in ("before", "after"):
        with _variant(variant, member.organization.prefecture_id):
            for label, url in (
                ("API /api/v1/oncall/now", f"/api/v1/oncall/now?municipality={code}"),
                ("page /oncall/now/", f"/oncall/now/?municipality={code}"),
            ):
                for _ in range(10):
                    assert client.get(url).status_code == 200
                one: list[str] = []  # request_started clears connection.queries: count here

                def counted(execute: Any, sql: str, *rest: Any, _one: list[str] = one) -> Any:
                    _one.append(sql)
                    return execute(sql, *rest)

                with connection.execute_wrapper(counted):
                    client.get(url)
                ms, cpu = [], 0.0
                for _ in range(args.requests):
                    c0, t0 = time.process_time(), time.perf_counter()
                    r = client.get(url)
                    ms.append((time.perf_counter() - t0) * 1000)
                    cpu += time.process_time() - c0
                    assert r.status_code == 200
                print(
                    f"{variant}: {label} ({code}): {len(one)} statements, "
                    f"{len(r.content) // 1024} KiB; n={len(ms)} p50 {statistics.median(ms):.1f} ms "
                    f"p95 {pct(ms, 0.95):.1f} ms p99 {pct(ms, 0.99):.1f} ms, "
                    f"CPU/req {cpu / len(ms) * 1000:.1f} ms (target p95 <= 30 ms)",
                    flush=True,
                )
    load = os.getloadavg()
    print(f"load average after {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
