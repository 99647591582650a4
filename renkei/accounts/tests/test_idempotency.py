"""The one submit-once record (security R23) every app uses."""

from __future__ import annotations

import pytest

from renkei.accounts.idempotency import KeyReused, run_once
from renkei.accounts.models import IdempotencyKey
from renkei.testing import make_user

pytestmark = pytest.mark.django_db


def test_a_key_runs_its_work_once_and_replays_the_answer() -> None:
    user = make_user("keyholder")
    calls: list[int] = []

    def work() -> tuple[int, dict[str, int]]:
        calls.append(1)
        return 201, {"n": len(calls)}

    assert run_once(user, "key-00001", "s", work) == (201, {"n": 1}, False)
    assert run_once(user, "key-00001", "s", work) == (201, {"n": 1}, True)
    assert calls == [1]
    with pytest.raises(KeyReused):
        run_once(user, "key-00001", "another step", work)


def test_anonymous_keys_are_kept_apart_by_scope_and_checked_against_the_body() -> None:
    """A public form: the same key in two scopes is two keys; another body is a conflict."""
    assert (
        run_once(None, "k-1", "events:1:apply", lambda: (201, {"a": 1}), fingerprint="x")[2]
        is False
    )
    assert (
        run_once(None, "k-1", "events:2:apply", lambda: (201, {"a": 2}), fingerprint="x")[2]
        is False
    )
    assert run_once(None, "k-1", "events:1:apply", lambda: (201, {"a": 3}), fingerprint="x") == (
        201,
        {"a": 1},
        True,
    )
    with pytest.raises(KeyReused, match="別の内容"):
        run_once(
            None, "k-1", "events:1:apply", lambda: (201, {}), fingerprint="y", mismatch="別の内容"
        )
    assert IdempotencyKey.objects.count() == 2


def test_a_refused_step_leaves_the_key_free() -> None:
    user = make_user("retrier")

    def refuse() -> tuple[int, dict[str, int]]:
        raise ValueError("refused")

    with pytest.raises(ValueError):
        run_once(user, "key-00002", "s", refuse)
    assert run_once(user, "key-00002", "s", lambda: (200, {}))[2] is False
