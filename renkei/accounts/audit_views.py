"""The audit log viewer for auditors and administrators (security R09, R10)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from renkei.accounts.http import MemberRequest, member_required, reauthentication
from renkei.accounts.models import AUDIT_ACTION_LABELS, AuditEntry, AuditQuerySet
from renkei.lib import exports, ratelimit
from renkei.lib.forms import DatePicker

PER_PAGE = 50
EXPORT_LIMIT = 50_000
EXPORT_COLUMNS = [
    "日時（日本時間）",
    "実行者",
    "組織",
    "役割",
    "操作",
    "操作コード",
    "対象種別",
    "対象ID",
    "対象",
    "IPアドレス",
    "内容",
]
# Spreadsheet programs run cells starting with these as formulas; failed sign-ins record
# whatever name was typed, so the export must not let it execute (CSV injection).


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="実行者（ログインID）", required=False, max_length=150)
    action = forms.ChoiceField(label="操作", required=False)
    date_from = forms.DateField(label="開始日", required=False, widget=DatePicker())
    date_to = forms.DateField(label="終了日", required=False, widget=DatePicker())
    # A breach is bounded by hours, not days: the window can start and end at a time.
    time_from = forms.TimeField(
        label="開始時刻", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    time_to = forms.TimeField(
        label="終了時刻", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    ip = forms.GenericIPAddressField(label="IPアドレス", required=False)

    def __init__(self, data: Any, *, actions: Iterable[str]) -> None:
        super().__init__(data)
        known = set(AUDIT_ACTION_LABELS) | set(actions)
        choices = sorted((a, AUDIT_ACTION_LABELS.get(a, a)) for a in known)
        self.fields["action"].choices = [("", "すべて"), *choices]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "終了日は開始日と同じか、それより後の日付にしてください")
        if data.get("time_from") and not start:
            self.add_error("time_from", "開始時刻を指定するときは開始日も指定してください")
        if data.get("time_to") and not end:
            self.add_error("time_to", "終了時刻を指定するときは終了日も指定してください")
        if (
            start
            and end
            and start == end
            and data.get("time_from")
            and data.get("time_to")
            and data["time_from"] > data["time_to"]
        ):
            self.add_error("time_to", "終了時刻は開始時刻より後にしてください")
        return data

    def apply(self, qs: AuditQuerySet) -> AuditQuerySet:
        """Filter by the cleaned values; dates are whole days in Japan time."""
        d = self.cleaned_data
        if d.get("actor"):
            qs = qs.filter(actor_label__icontains=d["actor"])
        if d.get("action"):
            qs = qs.filter(action=d["action"])
        if d.get("ip"):
            qs = qs.filter(ip=d["ip"])
        if d.get("date_from"):
            start = dt.datetime.combine(d["date_from"], d.get("time_from") or dt.time.min)
            qs = qs.filter(at__gte=timezone.make_aware(start))
        if d.get("date_to"):
            if d.get("time_to"):
                # Up to and including the minute given.
                end = dt.datetime.combine(d["date_to"], d["time_to"]) + dt.timedelta(minutes=1)
            else:
                end = dt.datetime.combine(d["date_to"] + dt.timedelta(days=1), dt.time.min)
            qs = qs.filter(at__lt=timezone.make_aware(end))
        return qs

    def as_detail(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.cleaned_data.items() if v}


def _csv(entries: Iterable[AuditEntry]) -> HttpResponse:
    rows = (
        (
            timezone.localtime(e.at).isoformat(timespec="seconds"),
            e.actor_label,
            e.organization.name if e.organization else "",
            e.role_label,
            e.action_label,
            e.action,
            e.target_type,
            e.target_id,
            e.target_repr,
            e.ip or "",
            json.dumps(e.detail, ensure_ascii=False, sort_keys=True) if e.detail else "",
        )
        for e in entries
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return exports.response(
        "csv", f"renkei-audit-{stamp}", exports.Sheet("監査ログ", EXPORT_COLUMNS, rows)
    )


SCOPE_COLUMNS = [
    "対象種別",
    "対象ID",
    "対象",
    "記録数",
    "最初（日本時間）",
    "最後（日本時間）",
    "操作",
]


def _scope(entries: AuditQuerySet) -> HttpResponse:
    """The breach scope: each record the filtered entries touched, once, with how often and
    when first and last, for the 個人情報保護委員会 report."""
    touched = (
        entries.exclude(target_id="")
        .order_by()
        .values("target_type", "target_id")
        .annotate(
            n=Count("id"),
            first=Min("at"),
            last=Max("at"),
            label=Max("target_repr"),
        )
        .order_by("target_type", "target_id")[:EXPORT_LIMIT]
    )
    actions: dict[tuple[str, str], set[str]] = {}
    for kind, ident, action in (
        entries.exclude(target_id="")
        .order_by()
        .values_list("target_type", "target_id", "action")
        .distinct()
    ):
        actions.setdefault((kind, ident), set()).add(action)
    rows = [
        (
            t["target_type"],
            t["target_id"],
            t["label"],
            t["n"],
            timezone.localtime(t["first"]).isoformat(timespec="seconds"),
            timezone.localtime(t["last"]).isoformat(timespec="seconds"),
            " ".join(
                AUDIT_ACTION_LABELS.get(a, a)
                for a in sorted(actions.get((t["target_type"], t["target_id"]), ()))
            ),
        )
        for t in touched
    ]
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return exports.response(
        "csv", f"renkei-breach-scope-{stamp}", exports.Sheet("影響範囲", SCOPE_COLUMNS, rows)
    )


@never_cache
@member_required
@require_GET
def audit_log(request: MemberRequest) -> HttpResponse:
    if not request.membership.can_review_audit:
        raise Http404
    # The log shows who looked at which records: reviewers need a second factor too (R03).
    if not request.user.is_verified():  # type: ignore[attr-defined]
        return redirect("accounts:otp_setup")
    visible = AuditEntry.objects.visible_to(request.membership)
    actions = visible.order_by().values_list("action", flat=True).distinct()
    form = AuditFilterForm(request.GET, actions=actions)
    if not form.is_valid():
        return render(
            request,
            "accounts/audit.html",
            {"form": form, "page": None, "querystring_base": ""},
            status=400,
        )
    entries = form.apply(visible).select_related("organization")
    if request.GET.get("format") == "scope":
        if (prompt := reauthentication(request)) is not None:
            return prompt
        if (wait := ratelimit.hit("export", ratelimit.by_user_or_ip(request))) is not None:
            return ratelimit.too_many(request, wait)
        response = _scope(form.apply(visible))
        AuditEntry.record("audit.scope_exported", request=request, detail=form.as_detail())
        return response
    if request.GET.get("format") == "csv":
        if (prompt := reauthentication(request)) is not None:
            return prompt
        if (wait := ratelimit.hit("export", ratelimit.by_user_or_ip(request))) is not None:
            return ratelimit.too_many(request, wait)
        rows = list(entries[:EXPORT_LIMIT])
        AuditEntry.record(
            "audit.exported", request=request, detail={**form.as_detail(), "rows": len(rows)}
        )
        return _csv(rows)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    # Read the page now, so that it matches its count and excludes the row recorded next.
    page.object_list = list(page.object_list)
    AuditEntry.record(
        "audit.viewed", request=request, detail={**form.as_detail(), "page": page.number}
    )
    filters = urlencode(form.as_detail())
    return render(
        request,
        "accounts/audit.html",
        {
            "form": form,
            "page": page,
            "querystring_base": filters + "&" if filters else "",
            "csv_query": filters,
        },
    )
