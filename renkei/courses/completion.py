"""Attendance per session, completion and certificates of a course round.

Certificates are numbered per course and fiscal year from `CertificateSequence`, taken
under a row lock; a number once given stays with its certificate, revoked or not.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from pydantic import Field

from renkei.accounts.models import AuditEntry, Membership
from renkei.courses.models import (
    Certificate,
    CertificateSequence,
    Course,
    CourseRound,
    CourseSession,
    SessionAttendance,
    completers,
)
from renkei.events.actions.rules import clipped
from renkei.events.models import Applicant, wareki_day
from renkei.lib.actions import ActionError, Conflict, NotFound
from renkei.lib.inputs import Input


class SessionAttendanceInput(Input):
    applicant: uuid.UUID = Field(description="申込者のcode")
    attended: bool = Field(description="出席ならtrue、取り消すならfalse")


@transaction.atomic
def set_session_attendance(
    session: CourseSession,
    data: SessionAttendanceInput,
    *,
    by: Membership,
    request: HttpRequest | None = None,
) -> Applicant:
    applicant = Applicant.objects.filter(
        event_id=session.round.event_id, code=data.applicant
    ).first()
    if applicant is None:
        raise NotFound("この回の申込者が見つかりません")
    if data.attended and applicant.status != Applicant.Status.CONFIRMED:
        raise Conflict("参加確定ではない申込者は出席にできません。")
    if data.attended and timezone.localdate() < session.date:
        raise Conflict(
            f"この日程（{wareki_day(session.date)}）はまだ来ていません。"
            "出席は当日以降に記録できます。",
            field="attended",
        )
    if data.attended:
        SessionAttendance.objects.get_or_create(
            session=session, applicant=applicant, defaults={"recorded_by": by.user}
        )
    else:
        if applicant.certificates.filter(revoked_at__isnull=True).exists():
            raise Conflict(
                "修了証を発行済みです。出席を取り消す場合は、先に修了証を取り消してください。"
            )
        SessionAttendance.objects.filter(session=session, applicant=applicant).delete()
    # The event's own 出席 (its tallies) means "came at least once".
    came = applicant.session_attendance.exists()
    if applicant.attended != came:
        applicant.attended = came
        applicant.attended_at = timezone.now() if came else None
        applicant.save(update_fields=["attended", "attended_at"])
    AuditEntry.record(
        "courses.attendance_marked",
        by=by,
        target=session.round,
        request=request,
        detail={
            "session": str(session.code),
            "applicant": str(applicant.code),
            "attended": data.attended,
        },
    )
    return applicant


@transaction.atomic
def issue_certificates(
    rnd: CourseRound, *, by: Membership, request: HttpRequest | None = None
) -> list[Certificate]:
    """A certificate for each completer of the round who has none yet, numbered in order."""
    sessions = list(rnd.sessions.all())
    if not sessions:
        raise ActionError("日程がありません")
    last_day = max(s.date for s in sessions)
    if timezone.localdate() < last_day:
        raise ActionError("修了証は最終日以降に発行できます。")
    fy = rnd.fiscal_year
    Course.objects.select_for_update().get(pk=rnd.course_id)
    seq, _ = CertificateSequence.objects.get_or_create(course_id=rnd.course_id, fiscal_year=fy)
    seq = CertificateSequence.objects.select_for_update().get(pk=seq.pk)
    holders = set(
        Certificate.objects.filter(round=rnd, revoked_at__isnull=True).values_list(
            "applicant_id", flat=True
        )
    )
    issued: list[Certificate] = []
    for person in completers(rnd):
        if person.pk in holders:
            continue
        seq.last += 1
        issued.append(
            Certificate(
                course_id=rnd.course_id,
                round=rnd,
                applicant=person,
                fiscal_year=fy,
                number=seq.last,
                issued_on=last_day,
                issued_by=by,
            )
        )
    try:
        Certificate.objects.bulk_create(issued)
    except IntegrityError as e:  # the constraints are the last line; the lock comes first
        raise Conflict("修了証の番号が重複しました。もう一度お試しください。") from e
    seq.save(update_fields=["last"])
    AuditEntry.record(
        "courses.certificates_issued",
        by=by,
        target=rnd,
        request=request,
        detail={"issued": len(issued)},
    )
    return issued


class RevokeInput(Input):
    reason: Annotated[str, clipped(200)] = Field(min_length=1, max_length=200)


@transaction.atomic
def revoke_certificate(
    cert: Certificate, data: RevokeInput, *, by: Membership, request: HttpRequest | None = None
) -> Certificate:
    """The certificate stays with its number; a new one for the same person gets a new number."""
    cert = Certificate.objects.select_for_update().get(pk=cert.pk)
    if cert.revoked_at:
        raise Conflict("この修了証は既に取り消されています。")
    cert.revoked_at = timezone.now()
    cert.revoked_reason = data.reason
    cert.save(update_fields=["revoked_at", "revoked_reason"])
    AuditEntry.record(
        "courses.certificate_revoked",
        by=by,
        target=cert.round,
        request=request,
        detail={"number": cert.number_label},
    )
    return cert
