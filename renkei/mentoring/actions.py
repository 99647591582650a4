"""同行研修 workflows: apply, match, notify, schedule, report, pay. Audited and transactional."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.mentoring.models import (
    ApplicationStatus,
    Match,
    Mentor,
    TraineeApplication,
    TrainingProgram,
)
from renkei.regions.models import Municipality


class MentoringError(ValueError):
    """A refused step; the message is shown to the user as is."""


def _require_office(program: TrainingProgram, by: Membership) -> None:
    if by.organization_id != program.organizer_id:
        raise PermissionDenied("この研修の事務局ではありません")


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


APPLICATION_FIELDS = (
    "trainee_name",
    "trainee_kana",
    "profession",
    "affiliation",
    "email",
    "phone",
    "preferred_weekdays",
    "preferred_dates",
    "motivation",
)


@transaction.atomic
def apply(
    program: TrainingProgram,
    *,
    fields: dict[str, Any],
    areas: Iterable[Municipality] = (),
    by: Membership | None = None,
    today: dt.date | None = None,
    request: HttpRequest | None = None,
) -> TraineeApplication:
    """Register an application (the trainee's own, or entered by the office from paper).

    The once-per-year rule is checked under a lock on the programme so that two
    simultaneous applications by the same person cannot both pass.
    """
    if by is not None:
        _require_office(program, by)
    program = TrainingProgram.objects.select_for_update().get(pk=program.pk)
    if not program.is_open and by is None:
        raise MentoringError("この研修は現在、申込みを受け付けていません")
    unknown = set(fields) - set(APPLICATION_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    TraineeApplication.objects.check_once_per_year(
        program,
        email=fields["email"],
        name=fields["trainee_name"],
        kana=fields["trainee_kana"],
        today=today,
    )
    application = TraineeApplication(program=program, entered_by=by.user if by else None, **fields)
    application.full_clean(exclude=["preferred_areas", "trainee_key", "program"])
    application.save()
    application.preferred_areas.set(list(areas))
    AuditEntry.record(
        "mentoring.applied",
        request=request,
        actor=by.user if by else None,
        membership=by,
        target=application,
        actor_label="" if by else "申込者（公開フォーム）",
        detail={"program": str(program.code), "profession": application.profession},
    )
    pk = application.pk
    transaction.on_commit(lambda: send_application_received(pk))
    return application


def send_application_received(application_pk: int) -> None:
    a = TraineeApplication.objects.select_related("program__organizer").get(pk=application_pk)
    send_mail(
        f"【{a.program.name}】お申込みを受け付けました",
        render_to_string("emails/mentoring_application_received.txt", {"a": a}),
        settings.DEFAULT_FROM_EMAIL,
        [a.email],
    )


@transaction.atomic
def decide_match(
    application: TraineeApplication,
    mentor: Mentor,
    *,
    by: Membership,
    today: dt.date | None = None,
    request: HttpRequest | None = None,
) -> Match:
    """The office chooses a mentor; the decision notice goes to both after commit."""
    application = (
        TraineeApplication.objects.select_for_update()
        .select_related("program")
        .get(pk=application.pk)
    )
    program = application.program
    _require_office(program, by)
    if application.status != ApplicationStatus.APPLIED:
        raise MentoringError(
            f"この申込は「{application.get_status_display()}」のため、指導医を決定できません"
        )
    if mentor.office_id != program.organizer_id or not mentor.is_active:
        raise MentoringError("この研修の指導医として登録され、受入れ中の医師を選んでください")
    TraineeApplication.objects.check_once_per_year(
        program,
        email=application.email,
        name=application.trainee_name,
        kana=application.trainee_kana,
        today=today,
        exclude=application,
    )
    match = Match.objects.create(
        application=application, mentor=mentor, decided_at=timezone.now(), decided_by=by.user
    )
    application.status = ApplicationStatus.MATCHED
    application.save(update_fields=["status"])
    AuditEntry.record(
        "mentoring.matched",
        request=request,
        actor=by.user,
        membership=by,
        target=match,
        detail={"application": str(application.code), "mentor": str(mentor.code)},
    )
    pk = match.pk
    transaction.on_commit(lambda: send_decision_notices(pk))
    return match


def send_decision_notices(match_pk: int) -> None:
    """決定連絡票 to the mentor and the trainee, each with their own report link."""
    match = Match.objects.select_related("application__program__organizer", "mentor").get(
        pk=match_pk
    )
    a, program = match.application, match.application.program
    for side, address, template in (
        (Match.Side.MENTOR, match.mentor.email, "emails/mentoring_decision_mentor.txt"),
        (Match.Side.TRAINEE, a.email, "emails/mentoring_decision_trainee.txt"),
    ):
        body = render_to_string(
            template,
            {
                "match": match,
                "a": a,
                "program": program,
                "mentor": match.mentor,
                "party_url": _site_url(match.party_url(side)),
                "notice_url": _site_url(match.party_url(side).rstrip("/") + "/notice/"),
            },
        )
        send_mail(
            f"【{program.name}】決定連絡票（{program.fy_label}）",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [address],
        )
    Match.objects.filter(pk=match.pk).update(notice_sent_at=timezone.now())


@transaction.atomic
def set_visit_date(
    match: Match,
    visit_date: dt.date,
    *,
    by: Membership | None = None,
    side: str = "",
    request: HttpRequest | None = None,
) -> Match:
    """Record the date mentor and trainee agreed on (either of them, or the office)."""
    match = (
        Match.objects.select_for_update().select_related("application__program").get(pk=match.pk)
    )
    a = match.application
    if by is not None:
        _require_office(a.program, by)
    if a.status not in (ApplicationStatus.MATCHED, ApplicationStatus.SCHEDULED):
        raise MentoringError(f"この研修は「{a.get_status_display()}」のため、日程を変更できません")
    start, end = dt.date(a.program.fiscal_year, 4, 1), dt.date(a.program.fiscal_year + 1, 3, 31)
    if not start <= visit_date <= end:
        raise ValidationError(
            {
                "visit_date": f"研修日は{a.program.fy_label}の期間内（{start}〜{end}）で入力してください"
            }
        )
    match.visit_date = visit_date
    match.save(update_fields=["visit_date"])
    a.status = ApplicationStatus.SCHEDULED
    a.save(update_fields=["status"])
    AuditEntry.record(
        "mentoring.scheduled",
        request=request,
        actor=by.user if by else None,
        membership=by,
        target=match,
        actor_label="" if by else Match.Side(side).label if side else "",
        detail={"visit_date": visit_date.isoformat(), "side": side},
    )
    return match


@transaction.atomic
def file_report(
    match: Match,
    side: str,
    text: str,
    *,
    today: dt.date | None = None,
    request: HttpRequest | None = None,
) -> Match:
    """実施報告書 / 受講報告書: once per side, after the visit day."""
    match = Match.objects.select_for_update().select_related("application").get(pk=match.pk)
    a = match.application
    today = today or timezone.localdate()
    text = text.strip()
    if side not in Match.Side.values:
        raise ValueError(side)
    if not text:
        raise ValidationError({"text": "報告の内容を入力してください"})
    if len(text) > 4000:
        raise ValidationError({"text": "報告は4000文字以内で入力してください"})
    if a.status == ApplicationStatus.CANCELLED:
        raise MentoringError("この研修は取り消されています")
    if match.visit_date is None:
        raise MentoringError("研修日が登録されていません。先に研修日を登録してください")
    if match.visit_date > today:
        d = match.visit_date
        raise MentoringError(
            f"報告は研修日（{d.year}年{d.month}月{d.day}日）以降に提出してください"
        )
    if match.report_at(side) is not None:
        raise MentoringError("報告は既に提出されています")
    now = timezone.now()
    if side == Match.Side.MENTOR:
        match.mentor_report, match.mentor_report_at = text, now
        match.save(update_fields=["mentor_report", "mentor_report_at"])
    else:
        match.trainee_report, match.trainee_report_at = text, now
        match.save(update_fields=["trainee_report", "trainee_report_at"])
    both = match.mentor_report_at is not None and match.trainee_report_at is not None
    a.status = ApplicationStatus.REPORTED if both else ApplicationStatus.DONE
    a.save(update_fields=["status"])
    AuditEntry.record(
        "mentoring.reported",
        request=request,
        target=match,
        actor_label=Match.Side(side).label,
        detail={"side": side},
    )
    return match


@transaction.atomic
def record_honorarium(
    match: Match,
    *,
    by: Membership,
    amount: int,
    paid_at: dt.date,
    request: HttpRequest | None = None,
) -> Match:
    match = (
        Match.objects.select_for_update().select_related("application__program").get(pk=match.pk)
    )
    _require_office(match.application.program, by)
    if match.mentor_report_at is None:
        raise MentoringError("指導医の実施報告が提出されてから謝礼を記録してください")
    if match.honorarium_paid_at is not None:
        raise MentoringError("この研修の謝礼は既に記録されています")
    if not 0 < amount <= 1_000_000:
        raise ValidationError({"amount": "謝礼の額は1円以上100万円以下で入力してください"})
    if paid_at > timezone.localdate():
        raise ValidationError({"paid_at": "支払日に未来の日付は入力できません"})
    match.honorarium_amount = amount
    match.honorarium_paid_at = paid_at
    match.honorarium_recorded_by = by.user
    match.save(update_fields=["honorarium_amount", "honorarium_paid_at", "honorarium_recorded_by"])
    AuditEntry.record(
        "mentoring.honorarium_recorded",
        request=request,
        actor=by.user,
        membership=by,
        target=match,
        detail={"amount": amount, "paid_at": paid_at.isoformat()},
    )
    return match


@transaction.atomic
def cancel_application(
    application: TraineeApplication,
    *,
    by: Membership,
    reason: str,
    request: HttpRequest | None = None,
) -> TraineeApplication:
    application = (
        TraineeApplication.objects.select_for_update()
        .select_related("program")
        .get(pk=application.pk)
    )
    _require_office(application.program, by)
    if application.status in (
        ApplicationStatus.DONE,
        ApplicationStatus.REPORTED,
        ApplicationStatus.CANCELLED,
    ):
        raise MentoringError(f"「{application.get_status_display()}」の申込は取り消せません")
    if not reason.strip():
        raise ValidationError({"reason": "取消の理由を入力してください"})
    application.status = ApplicationStatus.CANCELLED
    application.cancelled_at = timezone.now()
    application.cancel_reason = reason.strip()[:200]
    application.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    AuditEntry.record(
        "mentoring.cancelled",
        request=request,
        actor=by.user,
        membership=by,
        target=application,
        detail={"reason": application.cancel_reason},
    )
    return application


@transaction.atomic
def save_program(
    *,
    by: Membership,
    fields: dict[str, Any],
    program: TrainingProgram | None = None,
    request: HttpRequest | None = None,
) -> TrainingProgram:
    if program is None:
        program = TrainingProgram(organizer=by.organization)
    else:
        _require_office(program, by)
    for name, value in fields.items():
        setattr(program, name, value)
    if (
        TrainingProgram.objects.filter(
            organizer_id=program.organizer_id, fiscal_year=program.fiscal_year
        )
        .exclude(pk=program.pk)
        .exists()
    ):
        raise ValidationError({"fiscal_year": "この年度の同行研修は既に登録されています"})
    program.full_clean()
    program.save()
    AuditEntry.record(
        "mentoring.program_saved",
        request=request,
        actor=by.user,
        membership=by,
        target=program,
        detail={k: v for k, v in fields.items() if isinstance(v, int | str | bool)},
    )
    return program


@transaction.atomic
def save_mentor(
    *,
    by: Membership,
    fields: dict[str, Any],
    areas: Iterable[Municipality],
    mentor: Mentor | None = None,
    request: HttpRequest | None = None,
) -> Mentor:
    if mentor is None:
        mentor = Mentor(office=by.organization)
    elif mentor.office_id != by.organization_id:
        raise PermissionDenied("この指導医の登録先ではありません")
    for name, value in fields.items():
        setattr(mentor, name, value)
    if mentor.recommended and mentor.recommended_on is None:
        raise ValidationError(
            {"recommended_on": "医師会の推薦がある場合は推薦日を入力してください"}
        )
    mentor.full_clean(exclude=["areas"])
    mentor.save()
    mentor.areas.set(list(areas))
    AuditEntry.record(
        "mentoring.mentor_saved",
        request=request,
        actor=by.user,
        membership=by,
        target=mentor,
    )
    return mentor
