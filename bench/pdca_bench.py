"""Indicators benchmark (issue 15 §5): every computed indicator for every municipality for two
fiscal years on a national-size database, and the incremental recomputation of one.

    python bench/pdca_bench.py                 # DATABASE_URL or renkei_bench (PostgreSQL)
    python bench/pdca_bench.py --runs 3 --per-municipality 100

Targets: all municipalities × two fiscal years <= 30 s; one municipality <= 1 s.

It works on a bench database with the directory generated (bench/generate_directory.py: the
300,000 facilities). It then adds, once (a second run reuses them), one synthetic municipal
office per municipality with a consultation desk, and for each municipality over the two
fiscal years: consultations, trainings and public events with applicants, placement cases
with their requests, 同行研修 matches, 入院時情報提供書 sent and backup-bed uses. Rows are cloned server-side from one template row
each, made through the platform's own builders, so every NOT NULL column has a real value.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/renkei_bench"
MARK = "ベンチ指標"


def configure() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_PG)
    os.environ["DEBUG"] = "False"
    os.environ["JOBS_BACKEND"] = "immediate"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    # Fixed bench-only keys for the patient record the care forms and backup beds hang on.
    for name, label in (("FIELD_ENCRYPTION_KEYS", "field"), ("BLIND_INDEX_KEY", "index")):
        digest = base64.b64encode(hashlib.sha256(f"renkei pdca bench {label}".encode()).digest())
        os.environ.setdefault(name, ("bench:" if label == "field" else "") + digest.decode())
    os.environ["SECURE_SSL_REDIRECT"] = "False"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"


def clone(table: Any, template_id: int, source: str, overrides: dict[str, str]) -> int:
    """INSERT INTO table SELECT the template's columns, `overrides` (SQL over `source`'s
    aliases) replacing some, once per row of `source` (a FROM clause). Returns the row count."""
    from django.db import connection

    name = table._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s ORDER BY ordinal_position",
            [name],
        )
        columns = [c for (c,) in cur.fetchall() if c != "id"]
        exprs = [overrides.get(c, f't."{c}"') for c in columns]
        cols = ", ".join(f'"{c}"' for c in columns)
        cur.execute(
            f'INSERT INTO "{name}" ({cols}) SELECT {", ".join(exprs)} '  # noqa: S608 - bench
            f'FROM "{name}" t, {source} WHERE t.id = %s',
            [template_id],
        )
        return int(cur.rowcount)


def templates() -> dict[str, Any]:
    """One real row of each kind, through the builders the tests use."""
    from renkei.accounts.models import OrgKind, Role
    from renkei.desk.testing import make_consultation, make_desk, make_desk_member
    from renkei.events.models import Applicant
    from renkei.events.testing import make_application, make_event
    from renkei.mentoring import testing as mt
    from renkei.referrals.testing import make_case, make_hospital, make_receiver, send
    from renkei.testing import make_member, make_org

    office = make_org(f"{MARK} 見本市役所", OrgKind.MUNICIPALITY, municipality_code="142158")
    desk = make_desk(f"{MARK} 窓口", organization=office)
    counselor = make_desk_member(desk, username="bench-pdca-counselor")
    consultation = make_consultation(desk, counselor)
    event = make_event(office, title=f"{MARK} 研修")
    application = make_application(event, 1, notify=False)
    applicant = Applicant.objects.filter(application=application).get()
    msw = make_hospital(f"{MARK} 病院", username="bench-pdca-msw")
    receiver, _ = make_receiver(f"{MARK} 受入施設", username="bench-pdca-receiver")
    case = make_case(msw)
    request = send(case, msw, [receiver])[0]
    program = mt.make_program(office, fiscal_year=2025)
    officer = make_member(office, Role.MUNICIPAL_OFFICER, username="bench-pdca-office")
    mentor = mt.make_mentor(office, area_codes=("142158",))
    trainee = mt.make_application(program, area_codes=("142158",), today=dt.date(2025, 6, 1))
    match = mt.decide(trainee, mentor, by=officer, today=dt.date(2025, 6, 1))
    return {
        "office": office,
        "desk": desk,
        "consultation": consultation,
        "event": event,
        "application": application,
        "applicant": applicant,
        "case": case,
        "request": request,
        "program": program,
        "trainee": trainee,
        "match": match,
        "receiver": receiver,
    }


def populate(per_municipality: int) -> dict[str, int]:
    """Clone the templates for every municipality (once)."""
    from django.db import connection, transaction

    from renkei.accounts.models import Organization
    from renkei.desk.models import Consultation, Desk
    from renkei.events.models import Applicant, Application, Event
    from renkei.mentoring.models import Match, TraineeApplication, TrainingProgram
    from renkei.referrals.models import PlacementCase, PlacementRequest

    if Organization.objects.filter(name__startswith=f"{MARK} 市役所").exists():
        return {}
    counts: dict[str, int] = {}
    two_years = "(timestamp with time zone '2025-04-01 00:00+09' + random() * interval '730 days')"
    with transaction.atomic():
        t = templates()
        n = per_municipality
        counts["organizations"] = clone(
            Organization,
            t["office"].pk,
            "regions_municipality m",
            {
                "code": "gen_random_uuid()",
                "name": f"'{MARK} 市役所 ' || m.code",
                "municipality_id": "m.id",
                "prefecture_id": "m.prefecture_id",
            },
        )
        offices = f"(SELECT id, municipality_id FROM accounts_organization WHERE name LIKE '{MARK} 市役所 %%') o"
        counts["desks"] = clone(
            Desk, t["desk"].pk, offices, {"code": "gen_random_uuid()", "organization_id": "o.id"}
        )
        desks = f"(SELECT d.id FROM desk_desk d JOIN accounts_organization a ON a.id = d.organization_id WHERE a.name LIKE '{MARK} 市役所 %%') d"
        scenes = "(ARRAY['discharge','daily','emergency','end_of_life','other'])[1 + floor(random() * 5)::int]"
        counts["consultations"] = clone(
            Consultation,
            t["consultation"].pk,
            f"{desks}, generate_series(1, {n}) g",
            {
                "code": "gen_random_uuid()",
                "desk_id": "d.id",
                "received_at": two_years,
                "scene": scenes,
            },
        )
        kinds = "(ARRAY['interprofessional','hospital_seminar','care_medical_seminar','public_lecture','symposium'])[1 + floor(random() * 5)::int]"
        counts["events"] = clone(
            Event,
            t["event"].pk,
            f"{offices}, generate_series(1, {max(1, n // 10)}) g",
            {
                "code": "gen_random_uuid()",
                "organization_id": "o.id",
                "municipality_id": "o.municipality_id",
                "starts_at": two_years,
                "kind": kinds,
                "title": f"'{MARK} 研修'",
            },
        )
        events = (
            f"(SELECT id FROM events_event WHERE title = '{MARK} 研修' AND id <> {t['event'].pk}) e"
        )
        counts["applications"] = clone(
            Application,
            t["application"].pk,
            events,
            {
                "code": "gen_random_uuid()",
                "event_id": "e.id",
                "cancel_token": "md5(random()::text) || e.id",
            },
        )
        apps = f"(SELECT id, event_id FROM events_application WHERE event_id IN (SELECT id FROM events_event WHERE title = '{MARK} 研修') AND id <> {t['application'].pk}) a"
        occupations = "(ARRAY['doctor','nurse','care_worker','care_manager','rehab','pharmacist'])[1 + floor(random() * 6)::int]"
        counts["applicants"] = clone(
            Applicant,
            t["applicant"].pk,
            f"{apps}, generate_series(1, 10) g",
            {
                "code": "gen_random_uuid()",
                "application_id": "a.id",
                "event_id": "a.event_id",
                "email_key": "''",
                "position": "g",
                "occupation": occupations,
                "attended": "random() < 0.8",
            },
        )
        counts["placement_cases"] = clone(
            PlacementCase,
            t["case"].pk,
            f"regions_municipality m, generate_series(1, {max(1, n // 2)}) g",
            {
                "code": "gen_random_uuid()",
                "residence_id": "m.id",
                "status": "'decided'",
                "placed_facility_id": str(t["receiver"].pk),
                "registered_at": two_years,
                "decided_at": "NULL",
            },
        )
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE referrals_placementcase SET decided_at = registered_at + random() * interval '20 days' "
                "WHERE decided_at IS NULL AND status = 'decided'"
            )
            # Four distinct facilities per case (unique per case); which ones does not matter
            # to the indicators.
            cur.execute("SELECT id FROM directory_facility ORDER BY id LIMIT 4")
            ids = ",".join(str(i) for (i,) in cur.fetchall())
        counts["placement_requests"] = clone(
            PlacementRequest,
            t["request"].pk,
            f"(SELECT id FROM referrals_placementcase WHERE id <> {t['case'].pk}) c, generate_series(1, 4) g",
            {
                "code": "gen_random_uuid()",
                "case_id": "c.id",
                "facility_id": f"(ARRAY[{ids}])[g]",
            },
        )
        counts["programs"] = clone(
            TrainingProgram,
            t["program"].pk,
            f"{offices}, (VALUES (2025), (2026)) y(fy)",
            {"code": "gen_random_uuid()", "organizer_id": "o.id", "fiscal_year": "y.fy"},
        )
        programs = f"(SELECT p.id FROM mentoring_trainingprogram p JOIN accounts_organization a ON a.id = p.organizer_id WHERE a.name LIKE '{MARK} 市役所 %%') p"
        counts["trainee_applications"] = clone(
            TraineeApplication,
            t["trainee"].pk,
            f"{programs}, generate_series(1, 2) g",
            {"code": "gen_random_uuid()", "program_id": "p.id"},
        )
        trainees = f"(SELECT id FROM mentoring_traineeapplication WHERE id <> {t['trainee'].pk}) ta"
        counts["matches"] = clone(
            Match,
            t["match"].pk,
            trainees,
            {
                "code": "gen_random_uuid()",
                "application_id": "ta.id",
                "mentor_report_at": "CASE WHEN random() < 0.7 THEN now() END",
            },
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return counts


def link_templates() -> dict[str, Any]:
    """A 入院時情報提供書 and a backup-bed use, made through the builders and actions."""
    from renkei.accounts.models import OrgKind, Role
    from renkei.care.actions import forms as fa
    from renkei.care.models import TeamRole
    from renkei.care.testing import add_to_team, make_consent, make_patient
    from renkei.oncall import beds
    from renkei.oncall.models import BedOutcome, BedScheme
    from renkei.testing import make_member, make_org

    clinic = make_org(f"{MARK} 見本クリニック", OrgKind.CLINIC, municipality_code="142158")
    doctor = make_member(clinic, Role.DOCTOR, username="bench-pdca-doctor")
    office = make_org(f"{MARK} 見本ケアプラン", OrgKind.CARE_MANAGEMENT, municipality_code="142158")
    cm = make_member(office, Role.CARE_MANAGER, username="bench-pdca-cm")
    hospital = make_org(f"{MARK} 後方支援病院", OrgKind.HOSPITAL, municipality_code="142158")
    msw = make_member(hospital, Role.MSW, username="bench-pdca-bed-msw")
    patient = make_patient(doctor, name="指標 見本", kana="しひょう みほん")
    make_consent(patient, by=doctor)
    add_to_team(patient, cm, by=doctor, team_role=TeamRole.CARE_MANAGER)
    form = fa.create_form(
        patient, by=cm, data=fa.NewFormInput(kind="admission", admission_date=dt.date(2025, 6, 1))
    )
    offer = beds.save_offer(
        by=msw,
        data=beds.OfferInput(
            scheme=BedScheme.SUPPORT_HOSPITAL, name=f"{MARK} 後方ベッド", phone="046-300-0001"
        ),
    )
    reg = beds.register_patient(
        patient, by=doctor, data=beds.RegisterInput(offer=offer.code, summary="見本")
    )
    beds.decide_registration(reg, by=msw, data=beds.DecisionInput(accept=True))
    use = beds.record_use(
        reg, by=msw, data=beds.BedUseInput(admitted_on=dt.date(2025, 6, 1), outcome=BedOutcome.HOME)
    )
    return {"form": form, "registration": reg, "use": use}


def populate_links(per_municipality: int) -> dict[str, int]:
    """Forms and backup-bed uses per municipality (once; added after the other sources)."""
    from django.db import connection, transaction

    from renkei.accounts.models import Organization
    from renkei.care.models import SharedForm
    from renkei.oncall.models import BackupBedRegistration, BackupBedUse

    if Organization.objects.filter(name=f"{MARK} 見本ケアプラン").exists():
        return {}
    counts: dict[str, int] = {}
    offices = f"(SELECT id FROM accounts_organization WHERE name LIKE '{MARK} 市役所 %%') o"
    admitted = "(date '2025-04-01' + floor(random() * 730)::int)"
    with transaction.atomic():
        t = link_templates()
        counts["admission_forms"] = clone(
            SharedForm,
            t["form"].pk,
            f"{offices}, generate_series(1, {max(1, per_municipality // 2)}) g, "
            f"LATERAL (SELECT {admitted} + 0 * g AS day) a",
            {
                "code": "gen_random_uuid()",
                "sender_id": "o.id",
                "admission_date": "a.day",
                "first_sent_at": "(a.day::timestamp AT TIME ZONE 'Asia/Tokyo') "
                "+ random() * interval '6 days'",
            },
        )
        counts["bed_registrations"] = clone(
            BackupBedRegistration,
            t["registration"].pk,
            offices,
            {"code": "gen_random_uuid()", "clinic_id": "o.id", "status": "'ended'"},
        )
        regs = (
            "(SELECT id FROM oncall_backupbedregistration WHERE status = 'ended' "
            f"AND id <> {t['registration'].pk}) r"
        )
        outcomes = "(ARRAY['home','staying','transferred','died','not_admitted'])[1 + floor(random() * 5)::int]"
        counts["bed_uses"] = clone(
            BackupBedUse,
            t["use"].pk,
            f"{regs}, generate_series(1, {max(1, per_municipality // 10)}) g",
            {
                "code": "gen_random_uuid()",
                "registration_id": "r.id",
                "admitted_on": f"{admitted} + 0 * g",
                "outcome": outcomes,
            },
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return counts


def timed(func: Any) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--per-municipality", type=int, default=100, help="consultations per municipality"
    )
    args = parser.parse_args()
    configure()
    from django.db import connection

    from renkei.directory.models import Facility
    from renkei.pdca.compute import compute
    from renkei.regions.models import Municipality

    if connection.vendor != "postgresql":
        sys.exit("the benchmark runs on PostgreSQL")
    started = time.perf_counter()
    counts = populate(args.per_municipality) | populate_links(args.per_municipality)
    if counts:
        print(f"generated in {time.perf_counter() - started:.0f} s: {counts}")
    with connection.cursor() as cur:
        sizes = {}
        for table in (
            "directory_facility",
            "desk_consultation",
            "events_event",
            "events_applicant",
            "referrals_placementcase",
            "referrals_placementrequest",
            "mentoring_match",
            "care_sharedform",
            "oncall_backupbeduse",
        ):
            cur.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - fixed names
            sizes[table] = cur.fetchone()[0]  # type: ignore[index]
    print("rows:", sizes)
    print("municipalities:", Municipality.objects.count(), "facilities:", Facility.objects.count())
    years = [2025, 2026]
    from renkei.pdca.compute import SOURCES, Tally

    each = {source.__name__: timed(lambda s=source: s(Tally(), years, None)) for source in SOURCES}
    print("each source once:", ", ".join(f"{k} {v:.2f} s" for k, v in each.items()))
    from renkei.pdca.models import IndicatorValue, Source

    computed = IndicatorValue.objects.filter(indicator__source=Source.COMPUTED)
    computed.delete()
    cold = timed(lambda: compute(years))
    print(f"no value stored yet (every value inserted): {cold:.2f} s")
    changed = []
    for _ in range(args.runs):
        computed.update(numerator=-1)  # every stored figure differs from the computed one
        changed.append(timed(lambda: compute(years)))
    print(
        "every figure changed (every value rewritten): "
        f"{', '.join(f'{s:.2f}' for s in changed)} s (median {statistics.median(changed):.2f} s)"
    )
    full = [timed(lambda: compute(years)) for _ in range(args.runs)]
    one = Municipality.objects.get(code="142158").pk
    single = [timed(lambda: compute(years, municipality_id=one)) for _ in range(args.runs * 3)]
    load = os.getloadavg()
    cpus = os.cpu_count()
    print(
        f"all municipalities, FY2025-2026, figures unchanged: {', '.join(f'{s:.2f}' for s in full)} s (median {statistics.median(full):.2f} s; target 30 s)"
    )
    print(
        f"one municipality (海老名市): {', '.join(f'{s:.3f}' for s in single)} s (median {statistics.median(single):.3f} s; target 1 s)"
    )
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {cpus} CPUs")
    rev = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    print("commit", rev.stdout.strip())


if __name__ == "__main__":
    main()
