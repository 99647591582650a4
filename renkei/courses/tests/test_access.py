"""Outsiders get 404 on every organiser route; anonymous visitors are sent to sign in."""

from __future__ import annotations

import pytest
from django.test import Client

from renkei.accounts.models import Membership
from renkei.courses.models import Course
from renkei.courses.testing import apply_nurses
from renkei.courses.tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _routes(course: Course) -> list[str]:
    rnd = course.rounds.get(number=1)
    s = rnd.sessions.first()
    assert s is not None
    base = f"/courses/manage/{course.code}"
    return [
        f"{base}/",
        f"{base}/1/",
        f"{base}/1/sessions/{s.code}/",
        f"{base}/1/certificates/",
        f"{base}/1/completers.csv",
    ]


def test_the_organiser_sees_every_route(course: Course, alice: Membership) -> None:
    apply_nurses(course, 1, 2)
    c = client_for(alice)
    for url in _routes(course):
        assert c.get(url).status_code == 200, url
    assert c.get("/courses/manage/").status_code == 200
    assert c.get("/courses/manage/tally/").status_code == 200


def test_an_outsider_gets_404_everywhere(course: Course, charlie: Membership) -> None:
    apply_nurses(course, 1, 2)
    c = client_for(charlie)
    for url in _routes(course):
        assert c.get(url).status_code == 404, url
    assert c.post(f"/courses/manage/{course.code}/1/certificates/issue/").status_code == 404
    assert "佐藤" not in c.get("/courses/manage/tally/").content.decode()


def test_anonymous_is_sent_to_sign_in(course: Course, client: Client) -> None:
    for url in [*_routes(course), "/courses/manage/", "/courses/staff/"]:
        r = client.get(url)
        assert r.status_code == 302 and "/accounts/login" in r["Location"], url


def test_a_draft_course_is_only_the_organisers(
    alice: Membership, charlie: Membership, client: Client
) -> None:
    from renkei.courses.testing import make_course

    draft = make_course(alice, published=False)
    assert client.get(f"/courses/{draft.code}/").status_code == 404
    assert client_for(charlie).get(f"/courses/{draft.code}/1/apply/").status_code == 404
    assert client_for(alice).get(f"/courses/{draft.code}/").status_code == 200


def test_a_forged_progress_link_is_404(course: Course, client: Client) -> None:
    app = apply_nurses(course, 1, 1)
    assert client.get(f"/courses/progress/{app.signed_token}/").status_code == 200
    assert client.get(f"/courses/progress/{app.signed_token}x/").status_code == 404
    assert client.get(f"/courses/progress/{app.cancel_token}/").status_code == 404
