"""The busy pages cost a fixed number of statements, however long the timeline (issue 13 §7).

Each page is counted on a short timeline, then again after many more threads, replies, read
receipts by several members and more patients: the count must not move (no query per post,
per reply, per reader or per patient) and stays under a ceiling (one query per kind of data).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from renkei.accounts.models import Membership
from renkei.care.actions import timeline as tl
from renkei.care.models import Patient, PostRead, unread_counts
from renkei.care.testing import make_consent, make_patient, make_post
from renkei.care.tests.conftest import verified

pytestmark = pytest.mark.django_db

# Statements per request (PostgreSQL and SQLite alike): session, user, device, membership,
# patient, the page's own data (one query per kind), the audit row (chain head and insert),
# the other apps' panels and the menu's badges (one statement, ADR 0054). The session is
# written once a minute, not by these reads. A new panel or badge raises these on purpose:
# look at what it costs before raising them.
CEILING = {
    "timeline": 15,
    "timeline_api": 12,
    "since": 13,
    "since_api": 13,
    "home": 10,
}


def count(fn: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def grow(patient: Patient, doctor: Membership, nurse: Membership) -> None:
    """Forty more threads by both members, every other one with two replies, all read by
    the nurse; and three more patients of the doctor with posts of their own."""
    for i in range(40):
        top = make_post(patient, nurse if i % 2 else doctor, body=f"経過 {i}")
        if i % 2:
            make_post(patient, doctor, body=f"返信 {i}", parent=top)
            make_post(patient, nurse, body=f"返信の返信 {i}", parent=top)
    make_post(
        patient, nurse, category="visit", body="訪問", next_visit="2030-01-10", plan_changed=True,
        plan_summary="利尿剤を減量", care_points="転倒に注意", end_of_life="自宅で過ごしたい",
    )  # fmt: skip
    for post in patient.posts.all():
        PostRead.objects.get_or_create(post=post, user=nurse.user)
    for n in range(3):
        other = make_patient(
            doctor, name=f"別の 患者{n}", kana=f"べつの かんじゃ{'あいう'[n]}", allow_duplicate=True
        )
        make_consent(other, by=doctor)
        make_post(other, doctor, body="初回訪問")


def test_the_busy_pages_do_not_grow_with_the_timeline(
    doctor: Membership, nurse: Membership, patient: Patient, settings: Any
) -> None:
    # A slow host must not see the once-a-minute session write land in one count only.
    settings.SESSION_REFRESH_SECONDS = 3600
    make_post(patient, nurse, body="初回")
    make_post(patient, doctor, body="確認しました")
    client = verified(Client(), doctor)
    code = patient.code
    urls = {
        "timeline": f"/care/p/{code}/",
        "timeline_api": f"/api/v1/care/patients/{code}/posts",
        "since": f"/care/p/{code}/since/",
        "since_api": f"/api/v1/care/patients/{code}/since",
        "home": "/care/",
    }
    for url in urls.values():
        assert client.get(url).status_code == 200  # warm: the first read marks posts read
    before = {name: count(partial(client.get, url)) for name, url in urls.items()}
    grow(patient, doctor, nurse)
    for url in urls.values():
        client.get(url)
    after = {name: count(partial(client.get, url)) for name, url in urls.items()}
    assert after == before
    assert {name: n for name, n in after.items() if n > CEILING[name]} == {}, after


def test_the_timeline_page_shows_one_page_and_decrypts_only_it(
    doctor: Membership, nurse: Membership, patient: Patient
) -> None:
    for i in range(tl.PER_PAGE + 5):
        make_post(patient, nurse, body=f"経過メモ{i:03d}")
    body = verified(Client(), doctor).get(f"/care/p/{patient.code}/").content.decode()
    shown = [i for i in range(tl.PER_PAGE + 5) if f"経過メモ{i:03d}" in body]
    assert shown == list(range(5, tl.PER_PAGE + 5))  # the newest page only
    assert f"全{tl.PER_PAGE + 5}件" in body


def test_unread_counts_take_one_statement_for_any_number_of_patients(
    doctor: Membership, nurse: Membership, patient: Patient
) -> None:
    make_post(patient, nurse, body="未読1")
    assert count(lambda: unread_counts(doctor)) == 1
    grow(patient, doctor, nurse)
    with CaptureQueriesContext(connection) as ctx:
        counts = unread_counts(doctor)
    assert len(ctx.captured_queries) == 1
    # The nurse's 20 threads, her 20 replies, the first post and the visit note: unread by
    # the doctor; the doctor's own posts never count; the other patients hold only his own.
    assert counts == {patient.pk: 42}
