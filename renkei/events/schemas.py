"""What the events API answers: schemas read from model instances and the tallies' rows.

Lists are fetched with `EventQuerySet.for_display().with_counts()`, so that places left and
the organiser's counts come from the list's own query (no query per event).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.urls import reverse
from ninja import Field, Schema
from pydantic import ConfigDict

from renkei.events import tallies
from renkei.events.models import Applicant, Application, Event, EventAttachment, Occupation
from renkei.lib.mail import site_url


class LecturerOut(Schema):
    name: str
    affiliation: str
    title: str
    topic: str


class AttachmentOut(Schema):
    title: str
    url: str
    size: int
    content_type: str

    @staticmethod
    def resolve_url(obj: EventAttachment) -> str:
        return site_url(obj.get_absolute_url())


class EventOut(Schema):
    code: uuid.UUID
    title: str
    subtitle: str
    kind: str
    kind_label: str
    organiser: str = Field(alias="organiser_name")
    co_organiser: str
    programme_item: str
    scene: str
    target_occupations: list[str]
    target_area: str
    municipality_code: str | None
    municipality: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    date_label: str = Field(description="和暦の開催日 例: 令和7年10月24日(金)")
    reception_time: str | None = Field(description="受付開始 HH:MM")
    venue_name: str
    venue_address: str
    online: bool
    capacity: int | None
    capacity_note: str
    places_left: int | None
    apply_until: dt.datetime | None
    is_open: bool
    closed_reason: str
    description: str
    how_to_apply: str
    contact: str
    fax: str
    lecturers: list[LecturerOut]
    attachments: list[AttachmentOut]
    url: str
    apply_url: str
    flyer_url: str
    published: bool

    @staticmethod
    def resolve_kind_label(obj: Event) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_municipality_code(obj: Event) -> str | None:
        return obj.municipality.code if obj.municipality else None

    @staticmethod
    def resolve_municipality(obj: Event) -> str | None:
        return obj.municipality.name if obj.municipality else None

    @staticmethod
    def resolve_reception_time(obj: Event) -> str | None:
        return obj.reception_time.strftime("%H:%M") if obj.reception_time else None

    @staticmethod
    def resolve_online(obj: Event) -> bool:
        return bool(obj.online_url)

    @staticmethod
    def resolve_places_left(obj: Event) -> int | None:
        return obj.places_left()

    @staticmethod
    def resolve_is_open(obj: Event) -> bool:
        return obj.is_open()

    @staticmethod
    def resolve_closed_reason(obj: Event) -> str:
        return obj.closed_reason()

    @staticmethod
    def resolve_url(obj: Event) -> str:
        return site_url(obj.get_absolute_url())

    @staticmethod
    def resolve_apply_url(obj: Event) -> str:
        return site_url(reverse("events:apply", args=[obj.code]))

    @staticmethod
    def resolve_flyer_url(obj: Event) -> str:
        return site_url(reverse("events:flyer", args=[obj.code]))


class EventPage(Schema):
    count: int
    page: int
    per_page: int
    items: list[EventOut]


@dataclass(frozen=True)
class Page:
    """One page of events, read into EventPage."""

    count: int
    page: int
    per_page: int
    items: list[Event]


class ManagedEventOut(EventOut):
    confirmed: int = Field(alias="n_confirmed")
    waitlisted: int = Field(alias="n_waitlisted")
    attended: int = Field(alias="n_attended")


class ApplicantOut(Schema):
    code: uuid.UUID
    name: str
    kana: str
    occupation: str
    occupation_label: str
    status: str
    status_label: str
    waitlist_rank: int | None = Field(description="キャンセル待ちの順番（1が次に繰り上がる）")

    @staticmethod
    def resolve_status_label(obj: Applicant) -> str:
        return obj.get_status_display()


class ApplicationOut(Schema):
    code: uuid.UUID
    event: uuid.UUID
    event_title: str
    status: str
    office_name: str
    contact_name: str
    contact_email: str
    created_at: dt.datetime
    needs: list[str] = Field(description="参加にあたって必要な配慮（市民向けの講座）")
    needs_note: str
    applicants: list[ApplicantOut]
    token: str = Field(
        alias="signed_token", description="申込内容の確認・取消に使う署名付きトークン"
    )
    url: str

    @staticmethod
    def resolve_event(obj: Application) -> uuid.UUID:
        return obj.event.code

    @staticmethod
    def resolve_event_title(obj: Application) -> str:
        return obj.event.title

    @staticmethod
    def resolve_applicants(obj: Application) -> list[Applicant]:
        # An application just written carries its applicants with their rank (actions.apply).
        written = getattr(obj, "_prefetched_objects_cache", {}).get("applicants")
        if written is not None:
            return list(written)
        # The rank is computed in the query, the same way for the page and the API.
        return list(obj.applicants.with_waitlist_rank().order_by("position"))

    @staticmethod
    def resolve_url(obj: Application) -> str:
        return site_url(obj.get_absolute_url())


class CancelOut(Schema):
    cancelled: list[uuid.UUID]
    application: ApplicationOut


@dataclass(frozen=True)
class Cancelled:
    """What a cancellation did, read into CancelOut."""

    cancelled: list[uuid.UUID]
    application: Application


class ManagedApplicantOut(Schema):
    code: uuid.UUID
    position: int
    status: str
    name: str
    kana: str
    email: str
    occupation: str
    occupation_label: str
    attended: bool
    office_name: str = Field(alias="application.office_name")
    contact_name: str = Field(alias="application.contact_name")
    contact_email: str = Field(alias="application.contact_email")
    contact_phone: str = Field(alias="application.contact_phone")
    source: str = Field(alias="application.source")
    applied_at: dt.datetime = Field(alias="application.created_at")
    needs: list[str] = Field(alias="application.needs")
    needs_note: str = Field(alias="application.needs_note")


class CountsOut(Schema):
    occupation: str
    label: str
    applied: int
    confirmed: int
    waitlisted: int
    attended: int

    @classmethod
    def of(cls, occupation: str, label: str, c: tallies.Counts) -> CountsOut:
        return cls(occupation=occupation, label=label, **vars(c))


class TallyOut(Schema):
    rows: list[CountsOut]
    total: CountsOut

    @classmethod
    def of(cls, t: tallies.OccupationTally) -> TallyOut:
        labels = dict(Occupation.choices)
        return cls(
            rows=[CountsOut.of(occ, labels[occ], c) for occ, c in t.by_occupation.items()],
            total=CountsOut.of("", "合計", t.total),
        )


class YearEventOut(Schema):
    code: uuid.UUID
    title: str
    starts_at: dt.datetime
    tally: TallyOut


class YearTallyOut(Schema):
    fiscal_year: int
    label: str = Field(description="例: 令和7年度（2025年度）")
    events: list[YearEventOut]
    total: TallyOut

    @classmethod
    def of(cls, y: tallies.YearTally) -> YearTallyOut:
        return cls(
            fiscal_year=y.fy,
            label=y.label,
            events=[
                YearEventOut(
                    code=e.code, title=e.title, starts_at=e.starts_at, tally=TallyOut.of(t)
                )
                for e, t in y.events
            ],
            total=TallyOut.of(y.total),
        )


class SentOut(Schema):
    sent: int


class FeedbackOut(tallies.FeedbackSummary):
    """The survey's summary as the organiser's page shows it."""

    model_config = ConfigDict(from_attributes=True)
