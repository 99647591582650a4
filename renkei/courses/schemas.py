"""What the courses API answers, read from model instances."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema

from renkei.courses.models import (
    Certificate,
    Course,
    CourseRound,
    CourseSession,
    DispatchRequest,
    Material,
    MaterialVersion,
    Specialist,
)
from renkei.lib.inputs import TimeOfDay
from renkei.lib.mail import site_url


class SessionOut(Schema):
    code: uuid.UUID
    date: dt.date
    starts: TimeOfDay
    ends: TimeOfDay
    kind: str
    title: str
    venue: str
    online: bool


class RoundOut(Schema):
    number: int
    capacity: int | None
    places_left: int | None
    apply_from: dt.datetime | None
    apply_until: dt.datetime | None
    closed_reason: str
    sessions: list[SessionOut]

    @staticmethod
    def resolve_places_left(obj: CourseRound) -> int | None:
        return obj.event.places_left()

    @staticmethod
    def resolve_apply_until(obj: CourseRound) -> dt.datetime | None:
        return obj.event.apply_until

    @staticmethod
    def resolve_closed_reason(obj: CourseRound) -> str:
        return obj.closed_reason()

    @staticmethod
    def resolve_sessions(obj: CourseRound) -> list[CourseSession]:
        return list(obj.sessions.all())


class CourseOut(Schema):
    code: uuid.UUID
    title: str
    description: str
    organiser: str
    programme_item: str
    municipality_code: str | None
    eligible_occupations: list[str]
    min_years_experience: int | None
    employer_kinds: list[str]
    fee: int
    min_sessions: int | None
    published: bool
    url: str
    rounds: list[RoundOut]

    @staticmethod
    def resolve_organiser(obj: Course) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_municipality_code(obj: Course) -> str | None:
        return obj.municipality.code if obj.municipality else None

    @staticmethod
    def resolve_url(obj: Course) -> str:
        return site_url(obj.get_absolute_url())

    @staticmethod
    def resolve_rounds(obj: Course) -> list[CourseRound]:
        # Lists prefetch them (CourseQuerySet.with_rounds); one course reads them here.
        listed: list[CourseRound] | None = getattr(obj, "listed_rounds", None)
        return listed if listed is not None else list(obj.rounds.for_display())


class ParticipantOut(Schema):
    code: uuid.UUID
    name: str
    kana: str
    occupation: str
    office_name: str
    status: str
    sessions_attended: list[uuid.UUID]
    completed: bool
    certificate: str | None


class CertificateOut(Schema):
    code: uuid.UUID
    number: int
    fiscal_year: int
    label: str
    applicant: uuid.UUID
    name: str
    issued_on: dt.date

    @staticmethod
    def resolve_label(obj: Certificate) -> str:
        return obj.number_label

    @staticmethod
    def resolve_applicant(obj: Certificate) -> uuid.UUID:
        return obj.applicant.code

    @staticmethod
    def resolve_name(obj: Certificate) -> str:
        return obj.applicant.name


class YearlyOut(Schema):
    fiscal_year: int
    rounds: int
    participants: int
    completers: int


class SpecialistOut(Schema):
    code: uuid.UUID
    name: str
    kind: str
    affiliation: str
    areas: list[str]
    weekdays: list[int]
    availability_note: str
    active: bool

    @staticmethod
    def resolve_areas(obj: Specialist) -> list[str]:
        return [m.code for m in obj.areas.all()]


class DispatchOut(Schema):
    code: uuid.UUID
    requester: str
    municipality_code: str
    date: dt.date
    starts: TimeOfDay
    ends: TimeOfDay
    purpose: str
    kind: str
    venue: str
    detail: str
    status: str
    specialist: str | None
    answer_note: str
    participants: int | None
    reported: bool
    fee: int | None

    @staticmethod
    def resolve_requester(obj: DispatchRequest) -> str:
        return obj.requester.name

    @staticmethod
    def resolve_municipality_code(obj: DispatchRequest) -> str:
        return obj.municipality.code

    @staticmethod
    def resolve_specialist(obj: DispatchRequest) -> str | None:
        return obj.specialist.name if obj.specialist else None

    @staticmethod
    def resolve_reported(obj: DispatchRequest) -> bool:
        return obj.reported_at is not None


class CourseCountOut(Schema):
    label: str
    count: int


class DispatchYearOut(Schema):
    fiscal_year: int
    total: int
    by_municipality: list[CourseCountOut]
    by_purpose: list[CourseCountOut]
    by_kind: list[CourseCountOut]


class CourseVersionOut(Schema):
    published_on: dt.date
    note: str
    size: int
    content_type: str
    url: str

    @staticmethod
    def resolve_url(obj: MaterialVersion) -> str:
        return site_url(obj.get_absolute_url())


class MaterialOut(Schema):
    code: uuid.UUID
    title: str
    kind: str
    audience: str
    publisher: str
    municipality_code: str | None
    programme_item: str
    description: str
    url: str
    versions: list[CourseVersionOut]

    @staticmethod
    def resolve_publisher(obj: Material) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_municipality_code(obj: Material) -> str | None:
        return obj.municipality.code if obj.municipality else None

    @staticmethod
    def resolve_url(obj: Material) -> str:
        return site_url(obj.get_absolute_url())

    @staticmethod
    def resolve_versions(obj: Material) -> list[MaterialVersion]:
        return list(obj.versions.all())
