"""Event workflows: applying, cancelling, the waiting list, attendance and the survey.

Capacity rule: places are counted per applicant, in the order applicants arrive. An
application with more applicants than places left gets places for the first ones as
listed on the form and puts the rest on the waiting list; the waiting list is promoted
in the same order when someone cancels or the organiser raises the capacity.

Every change to the places of an event runs with the event row locked
(select_for_update on PostgreSQL; on SQLite the IMMEDIATE transaction mode serialises
writers), so concurrent applications can never overfill it.

Each action takes one typed input (defined next to it) that the HTML form and the API body
both produce; refusals are `renkei.lib.actions` errors; e-mail is enqueued with the data
(`renkei.events.emails`).
"""

from __future__ import annotations

from renkei.events.actions.applying import (
    MAX_APPLICANTS,
    MAX_PARTY,
    AnyApplication,
    CancelPlan,
    EventApplicantInput,
    EventApplicationInput,
    EventCancelInput,
    ResidentApplicationInput,
    apply,
    audit,
    cancel,
    fill_places,
    fingerprint,
    next_in_line,
    plan_cancel,
)
from renkei.events.actions.organising import (
    EVENT_FIELDS,
    AttendanceInput,
    EventFeedbackInput,
    EventInput,
    EventPatch,
    LecturerInput,
    add_attachment,
    check_upload,
    owned_refusal,
    refuse_if_owned,
    remove_attachment,
    request_feedback,
    save_event,
    set_attendance,
    submit_feedback,
)

__all__ = [
    "EVENT_FIELDS",
    "MAX_APPLICANTS",
    "MAX_PARTY",
    "AnyApplication",
    "AttendanceInput",
    "CancelPlan",
    "EventApplicantInput",
    "EventApplicationInput",
    "EventCancelInput",
    "EventFeedbackInput",
    "EventInput",
    "EventPatch",
    "LecturerInput",
    "ResidentApplicationInput",
    "add_attachment",
    "apply",
    "audit",
    "cancel",
    "check_upload",
    "fill_places",
    "fingerprint",
    "next_in_line",
    "owned_refusal",
    "plan_cancel",
    "refuse_if_owned",
    "remove_attachment",
    "request_feedback",
    "save_event",
    "set_attendance",
    "submit_feedback",
]
