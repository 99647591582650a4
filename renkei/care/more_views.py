"""Care screens for consent, provision records and the timeline (posting, print, receipts)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest
from renkei.accounts.models import AuditEntry
from renkei.care import timeline_html
from renkei.care.access import care_view, visible_consent, visible_patient, visible_post
from renkei.care.actions import consent as consent_actions
from renkei.care.actions import timeline as tl
from renkei.care.actions.patients import view_patient
from renkei.care.forms import ConsentForm, PostForm, RevokeForm
from renkei.care.models import CareTeamMember, Patient, ProvisionRecord
from renkei.care.panels import render_panels
from renkei.lib.actions import ActionError
from renkei.lib.forms import input_from_form, submit
from renkei.lib.inputs import parse_query


def _consents_page(
    request: MemberRequest, p: Patient, form: ConsentForm, status: int = 200
) -> HttpResponse:
    view_patient(p, by=request.membership, what="consents", request=request)
    return render(
        request,
        "care/consents.html",
        {
            "p": p,
            "on_team": True,
            "consents": consent_actions.consents_of(p),
            "form": form,
            "revoke_form": RevokeForm(),
        },
        status=status,
    )


@care_view
@require_http_methods(["GET", "POST"])
def consents(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    if request.method == "GET":
        return _consents_page(request, p, ConsentForm())
    form = ConsentForm(request.POST, request.FILES)
    done = submit(
        form,
        consent_actions.ConsentInput,
        lambda data: consent_actions.record_consent(
            p,
            by=request.membership,
            data=data,
            form_file=request.FILES.get("form_file"),
            request=request,
        ),
    )
    if not done.done:
        return _consents_page(request, p, form, status=done.status)
    messages.success(request, "同意を記録しました。")
    return redirect("care:consents", code=p.code)


@care_view
@require_POST
def consent_revoke(request: MemberRequest, code: uuid.UUID, consent: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    c = visible_consent(p, consent)
    form = RevokeForm(request.POST)
    data = input_from_form(form, consent_actions.RevokeInput)
    if data is None:
        # The input's words for its limit, as the API answers them; the page has one field.
        messages.error(request, "撤回の理由: " + " ".join(str(e) for e in form.errors["reason"]))
        return redirect("care:consents", code=p.code)
    try:
        consent_actions.revoke_consent(c, by=request.membership, data=data, request=request)
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, "同意を撤回しました。次の閲覧から反映されます。")
    return redirect("care:consents", code=p.code)


@care_view  # type: ignore[type-var]
@require_GET
def consent_form(request: MemberRequest, code: uuid.UUID, consent: uuid.UUID) -> HttpResponseBase:
    """The scanned paper form, only through here (audited), never from a public media URL."""
    p = visible_patient(request.membership, code)
    c = visible_consent(p, consent)
    if not c.form_file:
        raise Http404("同意書のファイルはありません")
    AuditEntry.record(
        "care.consent_form_viewed",
        request=request,
        membership=request.membership,
        target=p,
        detail={"consent": str(c.code)},
    )
    suffix = (c.form_file.name or "").rsplit(".", 1)[-1]
    response = FileResponse(c.form_file.open("rb"), filename=f"consent-{str(c.code)[:8]}.{suffix}")
    response["Cache-Control"] = "no-store"
    return response


@care_view
@require_GET
def provisions(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """第29条: the records of each provision to another organisation (kept 3 years)."""
    p = visible_patient(request.membership, code)
    view_patient(p, by=request.membership, what="provisions", request=request)
    rows = list(
        ProvisionRecord.objects.filter(patient=p).select_related(
            "recipient", "recipient_member__user", "consent"
        )
    )
    return render(request, "care/provisions.html", {"p": p, "rows": rows, "on_team": True})


# Timeline ---------------------------------------------------------------------------


TEAM_SHOWN = (
    "team_role",
    "membership__user__username",
    "membership__user__display_name",
    "membership__organization__name",
)


def timeline_page(
    request: MemberRequest, p: Patient, form: PostForm | None = None, status: int = 200
) -> HttpResponse:
    params = request.GET.copy()
    # ?new=visit (the list's 「訪問記録」 button): the form opens on a visit note, ready to type.
    quick_visit = params.pop("new", [""])[0] == "visit" and form is None
    try:
        query = parse_query(tl.TimelineQuery, params)
    except ActionError:
        query = tl.TimelineQuery()
    # Of each member the page shows the role, the name and the organisation's name; the rest of
    # the member, user and organisation rows stays in the database (issue 13 §7).
    team = list(p.current_team().only(*TEAM_SHOWN))
    on_team = any(r.membership_id == request.membership.pk for r in team)
    page = tl.timeline(p, by=request.membership, query=query, request=request, on_team=on_team)
    csrf_input = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )
    context: dict[str, Any] = {
        "p": p,
        "team": team,
        "team_html": timeline_html.team_list(team),
        "on_team": on_team,
        "page": page,
        "posts": page.object_list,
        "thread_html": timeline_html.threads(
            page.object_list,
            on_team=on_team,
            post_url=reverse("care:post", args=[p.code]),
            csrf_input=csrf_input,
        ),
        "q": query.q,
        "querystring_base": f"q={query.q}&" if query.q else "",
        "post_form": form or PostForm(initial={"category": "visit"} if quick_visit else None),
        "post_form_html": timeline_html.blank_post_form(quick_visit) if form is None else "",
        "quick_visit": quick_visit,
        "panels": render_panels(request, p),
    }
    return render(request, "care/patient.html", context, status=status)


@care_view
@require_POST
def post(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    form = PostForm(request.POST)
    done = submit(
        form,
        tl.PostInput,
        lambda data: tl.create_post(p, by=request.membership, data=data, request=request),
    )
    if not done.done:
        return timeline_page(request, p, form, status=done.status)
    messages.success(request, "投稿しました。")
    return redirect(p)


@care_view
@require_POST
def read(request: MemberRequest, code: uuid.UUID, post: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    tl.mark_read(visible_post(p, post), by=request.membership, request=request)
    return redirect(p)


@care_view
@require_GET
def timeline_print(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """The whole timeline, oldest first, for the chart (print or save as PDF)."""
    p = visible_patient(request.membership, code)
    view_patient(p, by=request.membership, what="timeline_print", request=request)
    posts = list(
        p.posts.select_related("author__user", "author__organization", "parent").order_by(
            "created_at", "pk"
        )
    )
    return render(request, "care/timeline_print.html", {"p": p, "posts": posts})


@care_view
@require_GET
def since(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """前回の訪問から: what the others recorded since the member's own last post."""
    p = visible_patient(request.membership, code)
    m = request.membership
    on_team = getattr(p, "on_team_now", None)  # read with the patient (visible_one)
    if on_team is None:
        on_team = CareTeamMember.objects.current().filter(patient=p, membership=m).exists()
    changes = tl.changes_since_last_visit(p, by=m, request=request, on_team=on_team)
    return render(
        request,
        "care/since.html",
        {
            "p": p,
            "on_team": on_team,
            "c": changes,
            "posts_html": timeline_html.since_posts(changes.posts),
            "limit": tl.SINCE_LIMIT,
        },
    )
