"""Care-team sharing benchmark (issue 13 §7), on PostgreSQL.

    python bench/care_bench.py                 # builds the data once in renkei_bench_care, then measures
    python bench/care_bench.py --runs 300      # requests per measurement
    python bench/care_bench.py --rebuild       # drop the database and build again

Targets: a patient with 2,000 timeline posts and 30 team members — the timeline page p95
<= 50 ms and the "what changed since my last visit" view p95 <= 50 ms; unread counts for a
user on 200 patients <= 30 ms.

The pages are requested in process through django.test.Client (the whole middleware, the
session with a verified second factor, the template), DEBUG off, like bench/pages_bench.py.
The data (synthetic, all sealed like real records) is made with the bench's own fixed field
keys, so a second run reuses it.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/renkei_bench_care"
MARK = "ベンチ在宅クリニック（care bench）"
POSTS = 2000
TEAM = 30
PATIENTS = 200
POSTS_OTHER = 10  # on each of the other 199 patients


def _key(label: str) -> str:
    return base64.b64encode(hashlib.sha256(label.encode()).digest()).decode()


def configure() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_PG)
    # Fixed, bench-only keys (not the published demo keys, which production settings refuse):
    # the data built by one run opens in the next.
    os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "bench:" + _key("renkei care bench field"))
    os.environ.setdefault("BLIND_INDEX_KEY", _key("renkei care bench index"))
    from generate_directory import ensure_pg_database
    from search_bench import configure as base_configure

    ensure_pg_database(os.environ["DATABASE_URL"])
    base_configure(None)


def build() -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from renkei.accounts.models import Membership, Organization, OrgKind, Role, User
    from renkei.care.models import (
        CareTeamMember,
        Category,
        MemberStatus,
        Patient,
        Post,
        PostRead,
        TeamRole,
    )
    from renkei.care.testing import make_consent, make_patient
    from renkei.regions.models import Municipality

    call_command("migrate", verbosity=0)
    clinic = Organization.objects.filter(name=MARK).first()
    if clinic is not None:
        doctor = Membership.objects.get(organization=clinic, user__username="bench-care-dr")
        p0 = Patient.objects.filter(owner=clinic).order_by("pk").first()
        return {"doctor": doctor, "p0": p0}
    t0 = time.monotonic()
    ebina = Municipality.objects.get(code="142158")
    kinds = [OrgKind.VISITING_NURSE, OrgKind.CARE_MANAGEMENT, OrgKind.PHARMACY, OrgKind.HOSPITAL]
    roles = [Role.VISITING_NURSE, Role.CARE_MANAGER, Role.PHARMACIST, Role.MSW]
    team_roles = [
        TeamRole.VISITING_NURSE,
        TeamRole.CARE_MANAGER,
        TeamRole.PHARMACIST,
        TeamRole.HOSPITAL_LIAISON,
    ]

    def member(org: Any, role: str, name: str) -> Any:
        user = User.objects.create(username=name, display_name=name, email=f"{name}@example.jp")
        user.set_unusable_password()
        user.save()
        return Membership.objects.create(user=user, organization=org, role=role)

    with transaction.atomic():
        clinic = Organization.objects.create(
            name=MARK, kind=OrgKind.CLINIC, municipality=ebina, prefecture=ebina.prefecture
        )
        doctor = member(clinic, Role.DOCTOR, "bench-care-dr")
        others = []
        for i in range(TEAM - 1):
            org = Organization.objects.create(
                name=f"ベンチ連携先{i:02d}（care bench）",
                kind=kinds[i % 4],
                municipality=ebina,
                prefecture=ebina.prefecture,
            )
            others.append((member(org, roles[i % 4], f"bench-care-{i:02d}"), team_roles[i % 4]))
        patients = []
        for n in range(PATIENTS):
            p = make_patient(
                doctor,
                name=f"ベンチ 患者{n:03d}",
                kana="べんち " + "".join("あいうえおかきくけこ"[int(d)] for d in f"{n:03d}"),
                birth_date=dt.date(1930 + n % 60, 1 + n % 12, 1 + n % 28),
                allow_duplicate=True,
            )
            make_consent(p, by=doctor)
            patients.append(p)
        p0 = patients[0]
        today = timezone.localdate()
        # The 30-member team of the heavy patient (29 others + the doctor), and two members
        # of it on every other patient, written directly: the invitations are not measured.
        rows = [
            CareTeamMember(
                patient=p,
                membership=m,
                team_role=role,
                status=MemberStatus.ACTIVE,
                start_date=today,
            )
            for p in patients
            for m, role in (others if p is p0 else others[:2])
        ]
        CareTeamMember.objects.bulk_create(rows)
        authors = [doctor, *[m for m, _ in others]]
        cats = [c for c in Category.values if c != Category.VISIT]
        posts = [
            Post(
                patient=p0,
                author=authors[(i * 7) % len(authors)] if i != POSTS // 2 else doctor,
                category=cats[i % len(cats)],
                body=f"ベンチの記録 {i}: 食事は半分、血圧 13{i % 10}/7{i % 10}。夜間よく眠れた。",
            )
            for i in range(POSTS)
        ]
        # Every tenth post after the first 100 is a reply to the post before it.
        Post.objects.bulk_create(posts, batch_size=500)
        for i in range(100, POSTS, 10):
            posts[i].parent = posts[i - 1]
        Post.objects.bulk_update([posts[i] for i in range(100, POSTS, 10)], ["parent"])
        rest = [
            Post(
                patient=p,
                author=others[k % 2][0],
                category=Category.DAILY,
                body=f"ベンチの記録 {p.pk}-{k}",
            )
            for p in patients[1:]
            for k in range(POSTS_OTHER)
        ]
        Post.objects.bulk_create(rest, batch_size=1000)
        # A history in time: one post a minute, in id order; the doctor's own last post is
        # half-way, so "since my last visit" has 1,000 newer posts (it shows 200).
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE care_post SET created_at = now() - (%s - id) * interval '1 minute'"
                " WHERE patient_id = %s",
                [posts[-1].pk, p0.pk],
            )
        # The doctor has read the older half of the heavy timeline.
        PostRead.objects.bulk_create(
            [PostRead(post=p, user=doctor.user) for p in posts[: POSTS // 2]], batch_size=1000
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"built {PATIENTS} patients, {POSTS + len(rest)} posts in {time.monotonic() - t0:.0f} s")
    return {"doctor": doctor, "p0": p0}


def pct(values: list[float], q: float) -> float:
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def report(label: str, ms: list[float], cpu: float, target: float) -> None:
    p95 = pct(ms, 95)
    verdict = "met" if p95 <= target else "NOT met"
    print(
        f"{label:<48} n={len(ms):<4} p50 {pct(ms, 50):7.2f}  p95 {p95:7.2f}  max {max(ms):7.2f} ms"
        f"  CPU/req {cpu:6.2f} ms  (target p95 <= {target:g} ms: {verdict})"
    )


def timed(fn: Any, runs: int) -> tuple[list[float], float]:
    """Wall-clock latencies, and this process's CPU per call (the load does not inflate it
    the way it inflates the wall clock, which on a shared host is mostly queueing)."""
    fn()  # warm
    out = []
    cpu = time.process_time()
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out, (time.process_time() - cpu) * 1000 / runs


def statements(fn: Any) -> int:
    from django.db import connections

    seen: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    from contextlib import ExitStack

    with ExitStack() as stack:
        for conn in connections.all():
            stack.enter_context(conn.execute_wrapper(count))
        fn()
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    if args.rebuild:
        import psycopg

        url = os.environ.get("DATABASE_URL", DEFAULT_PG)
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    configure()
    from django.test import Client
    from search_bench import calibration

    from renkei.care.models import Post, unread_counts
    from renkei.care.tests.conftest import verified

    data = build()
    doctor, p0 = data["doctor"], data["p0"]
    print(f"load average {os.getloadavg()}; {calibration()}")
    print(
        f"heavy patient: {Post.objects.filter(patient=p0).count()} posts, "
        f"{p0.current_team().count()} team members; "
        f"doctor on {len(unread_counts(doctor))} patients with unread posts"
    )
    client = verified(Client(), doctor)
    urls = {
        "timeline page (HTML, page 1)": f"/care/p/{p0.code}/",
        "timeline page 30 (HTML)": f"/care/p/{p0.code}/?page=30",
        "timeline (API, page 1)": f"/api/v1/care/patients/{p0.code}/posts",
        "since my last visit (HTML)": f"/care/p/{p0.code}/since/",
        "since my last visit (API)": f"/api/v1/care/patients/{p0.code}/since",
        "patient list with unread counts (HTML)": "/care/",
    }
    for label, url in urls.items():
        r = client.get(url)
        if r.status_code != 200:
            sys.exit(f"{url} -> {r.status_code} {r.content[:300]!r}")
        n = statements(lambda url=url: client.get(url))
        ms, cpu = timed(lambda url=url: client.get(url), args.runs)
        report(f"{label} [{n} SQL]", ms, cpu, 50)
    n = statements(lambda: unread_counts(doctor))
    ms, cpu = timed(lambda: unread_counts(doctor), args.runs)
    report(f"unread_counts(), a user on {PATIENTS} patients [{n} SQL]", ms, cpu, 30)
    print(f"load average {os.getloadavg()}; {calibration()}")


if __name__ == "__main__":
    main()
