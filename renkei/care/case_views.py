"""A decided 入退院支援 case becomes a patient (renkei.care.actions.from_case): one form."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from renkei.accounts.http import MemberRequest
from renkei.care.access import care_view
from renkei.care.actions import from_case as fc
from renkei.care.forms import FromCaseForm
from renkei.lib.actions import ActionError
from renkei.lib.forms import submit


@care_view
@require_http_methods(["GET", "POST"])
def from_case(request: MemberRequest, case: uuid.UUID) -> HttpResponse:
    m = request.membership
    c = fc.visible_case(m, case)
    context: dict[str, object] = {"case": c, "summary": fc.case_summary(c)}
    try:
        placement = fc.check_case(c, m)
    except ActionError as e:
        return render(
            request, "care/from_case.html", {**context, "refusal": e.message}, status=e.status
        )
    initial = {"sex": c.sex, "care_level": fc.CARE_LEVELS.get(c.care_level)}
    form = FromCaseForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        done = submit(
            form,
            fc.FromCaseInput,
            lambda data: fc.patient_from_case(c, by=m, data=data, request=request),
        )
        if done.result is not None:
            messages.success(
                request,
                "患者を登録しました。受入先の職員をチームに招待しました（先方が承諾すると加わります）。",
            )
            return redirect(done.result)
        status = done.status
    context.update(form=form, facility=placement.organization)
    return render(request, "care/from_case.html", context, status=status)
