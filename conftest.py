from __future__ import annotations

import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _fast_hashes_and_mail(settings: settings) -> None:  # type: ignore[valid-type]
    # For speed: Argon2 is the production hasher; tests check that separately.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
