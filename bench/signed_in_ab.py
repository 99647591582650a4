"""request.user of a signed-in, verified session: Django's AuthenticationMiddleware and
django-otp's OTPMiddleware (the session read by Django's engine) against SignedInMiddleware
(ADR 0071), alternating batches in one process, median CPU a request (issue 12).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h15b_cpu python bench/signed_in_ab.py

Needs a migrated database with at least one user (the first is used; a device is given to
them and a session made, both removed at the end). On a shared host only the alternation
counts: both paths see the same load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--per-batch", type=int, default=200)
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    os.environ.setdefault("DEBUG", "True")
    import django

    django.setup()
    from django.conf import settings

    # DEBUG (needed for the demo keys) would also log every statement, more on the old path.
    settings.DEBUG = False
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.backends import db
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.middleware import OTPMiddleware

    from renkei.accounts.middleware import SignedInMiddleware
    from renkei.accounts.models import Session, User
    from renkei.accounts.sessions import db as ours
    from renkei.testing import give_authenticator

    class QuerySetStore(db.SessionStore):
        __qualname__ = "SessionStore"  # the signing salt is the class name

        @classmethod
        def get_model_class(cls) -> Any:
            return Session

    user = User.objects.order_by("pk").first()
    assert user is not None, "no user in this database"
    device = give_authenticator(user, name="bench signed_in_ab")
    session = ours.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    key = session.session_key
    factory = RequestFactory()

    def ok(request: Any) -> HttpResponse:
        return HttpResponse()

    old_auth, old_otp, new = AuthenticationMiddleware(ok), OTPMiddleware(ok), SignedInMiddleware(ok)

    def old_path() -> bool:
        request = factory.get("/")
        request.session = QuerySetStore(key)
        old_auth.process_request(request)
        old_otp(request)
        return bool(request.user.is_verified())  # type: ignore[union-attr]

    def new_path() -> bool:
        request = factory.get("/")
        request.session = ours.SessionStore(key)
        new.process_request(request)
        return bool(request.user.is_verified())  # type: ignore[union-attr]

    timings: dict[str, list[float]] = {"django + django-otp": [], "SignedInMiddleware": []}
    try:
        for fn in (old_path, new_path):
            for _ in range(50):
                assert fn()
        for _ in range(args.batches):
            for name, fn in (("django + django-otp", old_path), ("SignedInMiddleware", new_path)):
                start = time.process_time()
                for _ in range(args.per_batch):
                    fn()
                timings[name].append((time.process_time() - start) / args.per_batch * 1000)
    finally:
        Session.objects.filter(pk=key).delete()
        device.delete()
    print(f"load average: {os.getloadavg()}")
    for name, values in timings.items():
        print(
            f"{name:22} median {statistics.median(values):.3f} ms CPU a request "
            f"(batches {min(values):.3f}–{max(values):.3f})"
        )


if __name__ == "__main__":
    main()
