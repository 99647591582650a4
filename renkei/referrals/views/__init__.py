"""Screens of the placement network: the MSW's cases, the facility's inbox, 効果検証.

Each screen reads its form into the typed input of renkei.referrals.inputs and calls the
same action as the API (parse → authorise → act → render); the records come through
renkei.referrals.access.
"""

from __future__ import annotations

from renkei.referrals.views.cases import (
    candidates,
    case_assign,
    case_detail,
    case_edit,
    case_list,
    case_new,
    case_withdraw,
    confirm,
    handover,
    home,
)
from renkei.referrals.views.effect import (
    dashboard,
    dashboard_export,
    survey_answer,
    survey_list,
    survey_new,
    survey_tally,
)
from renkei.referrals.views.requests import (
    admission,
    inbox,
    request_answer,
    request_detail,
    request_message,
    request_withdraw,
)

__all__ = [
    "admission",
    "candidates",
    "case_assign",
    "case_detail",
    "case_edit",
    "case_list",
    "case_new",
    "case_withdraw",
    "confirm",
    "dashboard",
    "dashboard_export",
    "handover",
    "home",
    "inbox",
    "request_answer",
    "request_detail",
    "request_message",
    "request_withdraw",
    "survey_answer",
    "survey_list",
    "survey_new",
    "survey_tally",
]
