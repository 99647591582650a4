"""Passwords are stored irreversibly with Argon2 and weak ones are refused (security R04)."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings

import renkei.settings as project_settings
from renkei.testing import make_user

pytestmark = pytest.mark.django_db


def test_argon2_is_the_first_hasher_in_project_settings() -> None:
    """The settings module itself (not the test override) puts Argon2 first."""
    assert project_settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.Argon2PasswordHasher"
    )


def test_stored_hash_is_argon2_with_project_hashers() -> None:
    """With the project's hashers a saved password starts with argon2$ and verifies."""
    with override_settings(PASSWORD_HASHERS=project_settings.PASSWORD_HASHERS):
        user = make_user("argon-check", password="umi-to-yama-2026")
        assert user.password.startswith("argon2$")
        assert "umi-to-yama-2026" not in user.password
        assert user.check_password("umi-to-yama-2026")


def test_validators_are_configured() -> None:
    """Length, similarity, common-password and all-digit validators are all on."""
    validators: list[dict[str, str]] = project_settings.AUTH_PASSWORD_VALIDATORS  # type: ignore[assignment]
    names = {v["NAME"].rsplit(".", 1)[-1] for v in validators}
    assert names >= {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }


@pytest.mark.parametrize(
    "password, reason",
    [
        ("short1", "短すぎます"),
        ("password123", "一般的すぎます"),
        ("20261122334455", "数字しか使われていません"),
    ],
)
def test_weak_password_is_rejected_with_japanese_reason(password: str, reason: str) -> None:
    """Each kind of weak password is refused, and the message says why in Japanese."""
    with pytest.raises(ValidationError) as excinfo:
        validate_password(password)
    assert any(reason in m for m in excinfo.value.messages)


def test_password_like_the_username_is_rejected() -> None:
    """A password close to the user's own ID is refused."""
    user = make_user("yokohama-kango")
    with pytest.raises(ValidationError):
        validate_password("yokohama-kango", user)


def test_good_password_passes() -> None:
    """A long, uncommon password is accepted (the validators are not simply rejecting all)."""
    validate_password("sakura-namiki-de-aou-42")
