"""The table of demo logins that `seed_demo` prints: each account once, named as the form names it."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from renkei.demo.organizations import DEMO_LOGINS
from renkei.demo.seed import FEATURE_LOGINS

pytestmark = pytest.mark.django_db


def printed_table() -> list[str]:
    out = StringIO()
    call_command("seed_demo", "--facilities", "20", stdout=out)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("デモ用ログイン"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].strip())
    return lines[start + 1 : end]


def test_every_login_is_printed_exactly_once() -> None:
    """No account appears on two lines (pref-kanagawa used to), and every listed one is there."""
    rows = printed_table()[2:]  # header and rule
    usernames = [row.split()[0] for row in rows]
    assert len(usernames) == len(set(usernames)), usernames
    expected = {login.username for login in DEMO_LOGINS} | {u for u, _ in FEATURE_LOGINS}
    assert set(usernames) == expected
    assert not {login.username for login in DEMO_LOGINS} & {u for u, _ in FEATURE_LOGINS}


def test_table_names_the_login_field_as_the_sign_in_form_does() -> None:
    """The table's first column and the sign-in form's label are both ログインID."""
    header = printed_table()[0]
    assert header.split()[0] == "ログインID"
    page = Client().get(reverse("accounts:login")).content.decode()
    label = re.search(r'<label for="id_username">([^<]+)</label>', page)
    assert label is not None and label.group(1) == "ログインID"
