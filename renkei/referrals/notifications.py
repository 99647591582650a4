"""E-mails of the placement network, rendered inside the action and enqueued with its changes.

Each goes through renkei.lib.actions.notify: a rolled-back action sends nothing, and a mail
server that fails never fails the request (the job queue retries).

No message carries anything about the patient beyond the case's anonymous summary: the
recipient signs in to see more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Membership, Role
from renkei.lib.actions import Notice, notify, notify_all
from renkei.lib.mail import site_url
from renkei.referrals.models import PlacementRequest, RequestMessage

# Who at the hospital hears about answers: the discharge team, plus the case's own people.
HOSPITAL_ROLES = [Role.MSW, Role.DISCHARGE_NURSE, Role.NURSE, Role.COUNSELOR]


def _emails_of(org_ids: Iterable[int], roles: Sequence[str] | None = None) -> dict[int, list[str]]:
    qs = Membership.objects.filter(
        organization_id__in=list(org_ids),
        is_active=True,
        user__is_active=True,
        organization__is_active=True,
    ).exclude(user__email="")
    if roles is not None:
        qs = qs.filter(role__in=list(roles))
    out: dict[int, list[str]] = {}
    for org_id, email in qs.values_list("organization_id", "user__email").order_by("user_id"):
        if email not in out.setdefault(org_id, []):
            out[org_id].append(email)
    return out


# The same recipients for other broadcasts of the network (oncall's 副主治医 search, ADR 0016).
emails_of = _emails_of


def _hospital_emails(req: PlacementRequest) -> list[str]:
    case = req.case
    emails = _emails_of([case.hospital_id], HOSPITAL_ROLES).get(case.hospital_id, [])
    for user in (case.assignee, case.created_by):
        if user is not None and user.is_active and user.email and user.email not in emails:
            emails.append(user.email)
    return emails


def _url(path: str) -> str:
    return site_url(path)


def _send(template: str, subject: str, recipients: list[str], context: dict[str, Any]) -> int:
    return notify(
        to=recipients, subject=subject, template=f"referrals_{template}.txt", context=context
    )


def _deadline(req: PlacementRequest) -> str:
    return timezone.localtime(req.deadline).strftime("%m月%d日 %H:%M")


def new_requests(reqs: list[PlacementRequest]) -> int:
    """Each receiving organisation's people are told of its request: the requests as the
    send wrote them, with their case (its hospital and residence) and facility loaded."""
    emails = _emails_of({r.organization_id for r in reqs})
    return notify_all(
        Notice(
            emails.get(r.organization_id, []),
            f"受入れ依頼が届きました（回答期限 {_deadline(r)}）",
            "referrals_new_request.txt",
            {"req": r, "case": r.case, "url": _url(r.get_absolute_url()), "deadline": _deadline(r)},
        )
        for r in reqs
    )


def answered(request_id: int) -> int:
    r = PlacementRequest.objects.select_related(
        "case", "case__assignee", "case__created_by", "facility"
    ).get(pk=request_id)
    return _send(
        "answered",
        f"{r.facility.name}から回答がありました（{r.get_answer_display()}）",
        _hospital_emails(r),
        {"req": r, "case": r.case, "url": _url(r.case.get_absolute_url())},
    )


def message_posted(message_id: int) -> int:
    m = RequestMessage.objects.select_related(
        "request",
        "request__case",
        "request__case__assignee",
        "request__case__created_by",
        "request__facility",
        "organization",
    ).get(pk=message_id)
    r = m.request
    if m.organization_id == r.case.hospital_id:
        recipients = _emails_of([r.organization_id]).get(r.organization_id, [])
        url = _url(r.get_absolute_url())
    else:
        recipients = _hospital_emails(r)
        url = _url(r.get_absolute_url())
    return _send(
        "message",
        f"受入れ依頼に質問・回答が届きました（{m.organization.name}）",
        recipients,
        {"req": r, "case": r.case, "message": m, "url": url},
    )


def withdrawn(request_ids: list[int]) -> int:
    reqs = list(
        PlacementRequest.objects.filter(pk__in=request_ids).select_related(
            "case", "case__hospital", "facility"
        )
    )
    emails = _emails_of({r.organization_id for r in reqs})
    sent = 0
    for r in reqs:
        sent += _send(
            "withdrawn",
            "受入れ依頼が取り下げられました",
            emails.get(r.organization_id, []),
            {"req": r, "case": r.case, "url": _url(r.get_absolute_url())},
        )
    return sent


def decided(request_id: int) -> int:
    r = PlacementRequest.objects.select_related("case", "case__hospital", "facility").get(
        pk=request_id
    )
    return _send(
        "decided",
        "受入れ先として決定しました",
        _emails_of([r.organization_id]).get(r.organization_id, []),
        {"req": r, "case": r.case, "url": _url(r.get_absolute_url())},
    )


def reminder(request_id: int) -> int:
    r = PlacementRequest.objects.select_related("case", "case__hospital", "facility").get(
        pk=request_id
    )
    return _send(
        "reminder",
        f"受入れ依頼への回答をお願いします（回答期限 {_deadline(r)}）",
        _emails_of([r.organization_id]).get(r.organization_id, []),
        {"req": r, "case": r.case, "url": _url(r.get_absolute_url()), "deadline": _deadline(r)},
    )
