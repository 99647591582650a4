"""SESSION_ENGINE with a shared cache (CACHE_URL): Django's cached_db sessions on
`accounts.Session`. A session found in the cache costs one statement for its user and device
(`read_user`); one read from the database brings them along (ADR 0071)."""

from __future__ import annotations

from django.contrib.sessions.backends import cached_db

from renkei.accounts.sessions import SignedInStore


class SessionStore(SignedInStore, cached_db.SessionStore):
    pass
