"""The consultation versions' hash chain is unchanged by moving its digest into lib.chain."""

from __future__ import annotations

import hashlib
import json

from renkei.accounts.models import Membership
from renkei.desk import actions
from renkei.desk.models import ConsultationVersion, Desk, verify_history
from renkei.desk.testing import make_consultation


def digest_as_written_before(v: ConsultationVersion, previous: str) -> str:
    """The formula the versions stored since the desk was built (kept here as the reference)."""
    payload = json.dumps(
        {
            "previous": previous,
            "number": v.number,
            "data": v.data,
            "reason": v.reason,
            "by": v.created_by_id,
            "at": v.created_at.isoformat(),
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def test_stored_digests_follow_the_original_formula(desk: Desk, counselor: Membership) -> None:
    """Rows written before and after the move verify alike: each digest is the old formula
    over its content and the previous digest."""
    c = make_consultation(desk, counselor, confirm=True)
    actions.update_consultation(
        c, by=counselor, data=actions.ConsultationEditInput.of(c, summary="二版目", reason="追記")
    )
    previous = ""
    versions = list(c.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    for v in versions:
        assert v.digest == digest_as_written_before(v, previous)
        previous = v.digest
    assert verify_history(c)


def test_verify_consultations_names_the_broken_one(desk: Desk, counselor: Membership) -> None:
    """`manage.py verify_consultations` (run by the restore drill) passes on untouched chains,
    and after a raw edit names the consultation and the version, and fails."""
    from io import StringIO

    import pytest
    from django.core.management import CommandError, call_command
    from django.db import connection

    intact = make_consultation(desk, counselor, confirm=True)
    edited = make_consultation(desk, counselor, confirm=True)
    actions.update_consultation(
        edited,
        by=counselor,
        data=actions.ConsultationEditInput.of(edited, summary="二版目", reason="追記"),
    )
    out = StringIO()
    call_command("verify_consultations", stdout=out)
    assert "3版、改ざんなし" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE desk_consultationversion SET reason = %s WHERE consultation_id = %s"
            " AND number = 2",
            ["書き換え", edited.pk],
        )
    with pytest.raises(CommandError) as refused:
        call_command("verify_consultations")
    assert f"相談記録 {edited.code} の第2版" in str(refused.value)
    assert str(intact.code) not in str(refused.value)
