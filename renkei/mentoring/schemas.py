"""What the 同行研修 API answers: ninja schemas read from model instances and typed rows.

The request bodies are the actions' inputs (renkei.mentoring.actions); these are the outputs.
"""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Field, Schema

from renkei.mentoring.access import Party
from renkei.mentoring.models import (
    ApplicationStatus,
    Match,
    Mentor,
    Profession,
    TraineeApplication,
    TrainingProgram,
)
from renkei.mentoring.summary import Summary


class ProgramOut(Schema):
    code: uuid.UUID
    organizer: str
    name: str
    fiscal_year: int
    label: str
    planned_count: int
    honorarium_amount: int
    is_open: bool
    extra_trainings_allowed: bool = Field(description="今日、同じ受講者の追加受講が認められるか")

    @staticmethod
    def resolve_organizer(obj: TrainingProgram) -> str:
        return obj.organizer.name

    @staticmethod
    def resolve_label(obj: TrainingProgram) -> str:
        return obj.fy_label

    @staticmethod
    def resolve_extra_trainings_allowed(obj: TrainingProgram) -> bool:
        return obj.extra_trainings_allowed()


class TraineeApplicationOut(Schema):
    code: uuid.UUID
    program: uuid.UUID
    trainee_name: str
    trainee_kana: str
    profession: Profession
    affiliation: str
    email: str
    phone: str
    preferred_areas: list[str]
    preferred_weekdays: list[str]
    preferred_dates: str
    motivation: str
    status: ApplicationStatus
    applied_at: dt.datetime
    match: uuid.UUID | None

    @staticmethod
    def resolve_program(obj: TraineeApplication) -> uuid.UUID:
        return obj.program.code

    @staticmethod
    def resolve_preferred_areas(obj: TraineeApplication) -> list[str]:
        return [m.code for m in obj.preferred_areas.all()]

    @staticmethod
    def resolve_preferred_weekdays(obj: TraineeApplication) -> list[str]:
        return obj.weekday_labels()

    @staticmethod
    def resolve_match(obj: TraineeApplication) -> uuid.UUID | None:
        match = obj.current_match()
        return match.code if match else None


class AppliedOut(Schema):
    code: uuid.UUID
    status: ApplicationStatus
    message: str = "申込みを受け付けました。確認のメールをお送りしました。"


class MentorOut(Schema):
    code: uuid.UUID
    name: str
    kana: str
    affiliation: str
    recommended: bool
    recommended_on: dt.date | None
    areas: list[str]
    weekdays: list[str]
    availability: str
    is_active: bool

    @staticmethod
    def resolve_areas(obj: Mentor) -> list[str]:
        return [m.code for m in obj.areas.all()]

    @staticmethod
    def resolve_weekdays(obj: Mentor) -> list[str]:
        return obj.weekday_labels()


class SuggestionOut(Schema):
    mentor: MentorOut
    area_hits: int
    day_ok: bool
    load: int
    reasons: list[str]


class MatchOut(Schema):
    code: uuid.UUID
    application: uuid.UUID
    trainee_name: str
    mentor_name: str
    status: ApplicationStatus
    decided_at: dt.datetime
    notice_sent_at: dt.datetime | None
    visit_date: dt.date | None
    mentor_report_at: dt.datetime | None
    trainee_report_at: dt.datetime | None
    honorarium_amount: int | None
    honorarium_paid_at: dt.date | None

    @staticmethod
    def resolve_application(obj: Match) -> uuid.UUID:
        return obj.application.code

    @staticmethod
    def resolve_trainee_name(obj: Match) -> str:
        return obj.application.trainee_name

    @staticmethod
    def resolve_mentor_name(obj: Match) -> str:
        return obj.mentor.name

    @staticmethod
    def resolve_status(obj: Match) -> str:
        return obj.application.status


class PartyOut(Schema):
    side: str
    program: str
    trainee_name: str
    mentor_name: str
    status: ApplicationStatus
    visit_date: dt.date | None
    own_report: str
    own_report_at: dt.datetime | None

    @staticmethod
    def resolve_program(obj: Party) -> str:
        return str(obj.match.application.program)

    @staticmethod
    def resolve_trainee_name(obj: Party) -> str:
        return obj.match.application.trainee_name

    @staticmethod
    def resolve_mentor_name(obj: Party) -> str:
        return obj.match.mentor.name

    @staticmethod
    def resolve_status(obj: Party) -> str:
        return obj.match.application.status

    @staticmethod
    def resolve_visit_date(obj: Party) -> dt.date | None:
        return obj.match.visit_date

    @staticmethod
    def resolve_own_report(obj: Party) -> str:
        return obj.match.report_of(obj.side)

    @staticmethod
    def resolve_own_report_at(obj: Party) -> dt.datetime | None:
        return obj.match.report_at(obj.side)


class ProfessionRowOut(Schema):
    label: str
    applications: int
    cancelled: int
    matched: int
    done: int


class MentorRowOut(Schema):
    name: str
    affiliation: str
    matches: int
    done: int
    honoraria: int


class SummaryOut(Schema):
    program: uuid.UUID
    label: str
    planned_count: int
    applications: int
    cancelled: int
    matched: int
    done: int
    reported: int
    honoraria_total: int
    by_profession: list[ProfessionRowOut]
    mentors: list[MentorRowOut]

    @staticmethod
    def resolve_program(obj: Summary) -> uuid.UUID:
        return obj.program.code

    @staticmethod
    def resolve_label(obj: Summary) -> str:
        return obj.program.fy_label

    @staticmethod
    def resolve_planned_count(obj: Summary) -> int:
        return obj.program.planned_count
