"""SESSION_ENGINE without a shared cache: Django's database sessions on `accounts.Session`,
the user and the second-factor device read in the same statement (ADR 0071)."""

from __future__ import annotations

from django.contrib.sessions.backends import db

from renkei.accounts.sessions import SignedInStore


class SessionStore(SignedInStore, db.SessionStore):
    pass
