"""Refuse to serve with settings that are safe for the demo only (security R01, issue 17 §7).

Production is the default (DEBUG off). Settings still load without keys, so that tools which only
read them (mypy's Django plugin, makemigrations) work anywhere; serving does not: wsgi.py and
asgi.py call `refuse_unsafe_settings()` before a server takes a request, manage.py before
runserver and the job workers, and `check --deploy` reports the same problems as errors. Without
keys nothing falls back to a published one: Django refuses an empty SECRET_KEY on use, and
renkei.lib.crypto refuses empty encryption keys.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from renkei.lib.crypto import DEMO_FIELD_KEYS, DEMO_INDEX_KEY, DEMO_SECRET_KEY

KEYGEN = 'python -c "from renkei.lib.crypto import new_key; print(new_key())"'


def _secret_key() -> str:
    try:
        return str(settings.SECRET_KEY)
    except ImproperlyConfigured:  # Django refuses to hand out an empty key
        return ""


def unsafe_settings() -> list[str]:
    """What stops this process from serving in production; nothing when DEBUG is on."""
    if settings.DEBUG:
        return []
    problems = []
    key = _secret_key()
    if not key:
        problems.append(
            "SECRET_KEY (or SECRET_KEY_FILE) is not set. DEBUG is off (production, the default): "
            'set a long random key (python -c "import secrets; print(secrets.token_urlsafe(50))"), '
            "or DEBUG=True for development and the demo."
        )
    elif key == DEMO_SECRET_KEY:
        problems.append(
            "SECRET_KEY is the demo key published with the code: anyone could forge password-reset "
            "and cancellation links. Set your own SECRET_KEY (or SECRET_KEY_FILE)."
        )
    if not settings.FIELD_ENCRYPTION_KEYS or not settings.BLIND_INDEX_KEY:
        problems.append(
            "FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY (or their _FILE) are required when DEBUG "
            f"is off. Generate each key with: {KEYGEN}"
        )
    elif (
        set(settings.FIELD_ENCRYPTION_KEYS) & set(DEMO_FIELD_KEYS)
        or settings.BLIND_INDEX_KEY == DEMO_INDEX_KEY
    ):
        problems.append(
            "The published demo encryption keys are for DEBUG only: set your own "
            f"FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY ({KEYGEN})."
        )
    return problems


@checks.register(checks.Tags.security, deploy=True)
def check_production_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    return [checks.Error(p, id="renkei.E001") for p in unsafe_settings()]


def refuse_unsafe_settings() -> None:
    problems = unsafe_settings()
    if problems:
        raise ImproperlyConfigured("Renkei refuses to start:\n- " + "\n- ".join(problems))
