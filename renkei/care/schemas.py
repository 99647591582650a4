"""What the care API answers: ninja schemas read from model instances.

The request bodies are the actions' inputs (renkei.care.actions); these are the outputs.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.paginator import Page
from ninja import Schema

from renkei.care.form_kinds import Content
from renkei.care.models import (
    AcpRecord,
    CareLevel,
    CareTeamMember,
    Category,
    Consent,
    FormKind,
    Patient,
    Post,
    ProvisionRecord,
    Resuscitation,
    Sex,
    SharedForm,
    TeamRole,
)


class PatientOut(Schema):
    code: uuid.UUID
    name: str
    kana: str
    birth_date: dt.date
    sex: Sex
    address: str
    phone: str
    insured_number: str
    care_level: CareLevel
    key_person: str
    emergency_contacts: str
    owner: str
    version: int

    @staticmethod
    def resolve_owner(obj: Patient) -> str:
        return obj.owner.name


class PatientRow(Schema):
    code: uuid.UUID
    name: str
    kana: str
    age: int
    care_level: CareLevel
    unread: int


class TeamMemberOut(Schema):
    id: int
    team_role: TeamRole
    status: str
    name: str
    username: str
    organization: str
    organization_code: uuid.UUID
    start_date: dt.date
    end_date: dt.date | None

    @staticmethod
    def resolve_name(obj: CareTeamMember) -> str:
        return str(obj.membership.user)

    @staticmethod
    def resolve_username(obj: CareTeamMember) -> str:
        return obj.membership.user.username

    @staticmethod
    def resolve_organization(obj: CareTeamMember) -> str:
        return obj.membership.organization.name

    @staticmethod
    def resolve_organization_code(obj: CareTeamMember) -> uuid.UUID:
        return obj.membership.organization.code


class InvitationOut(Schema):
    """An invitation as the invitee sees it: no patient data until accepted."""

    id: int
    team_role: TeamRole
    invited_by: str
    invited_by_organization: str
    start_date: dt.date
    reference: str

    @staticmethod
    def resolve_invited_by(obj: CareTeamMember) -> str:
        return str(obj.invited_by.user) if obj.invited_by else ""

    @staticmethod
    def resolve_invited_by_organization(obj: CareTeamMember) -> str:
        return obj.invited_by.organization.name if obj.invited_by else ""

    @staticmethod
    def resolve_reference(obj: CareTeamMember) -> str:
        return str(obj.patient)


class ConsentOut(Schema):
    code: uuid.UUID
    scope: str
    purpose: str
    given_by: str
    valid_from: dt.date
    valid_until: dt.date | None
    organizations: list[str]
    people: list[str]
    has_form: bool
    recorded_by: str
    recorded_at: dt.datetime
    revoked_at: dt.datetime | None
    active: bool

    @staticmethod
    def resolve_organizations(obj: Consent) -> list[str]:
        return [o.name for o in obj.organizations.all()]

    @staticmethod
    def resolve_people(obj: Consent) -> list[str]:
        return [u.username for u in obj.people.all()]

    @staticmethod
    def resolve_has_form(obj: Consent) -> bool:
        return bool(obj.form_file)

    @staticmethod
    def resolve_recorded_by(obj: Consent) -> str:
        return str(obj.recorded_by.user)

    @staticmethod
    def resolve_active(obj: Consent) -> bool:
        return obj.is_active()


class ProvisionOut(Schema):
    provided_at: dt.datetime
    recipient: str
    items: str
    basis: str
    keep_until: dt.date

    @staticmethod
    def resolve_recipient(obj: ProvisionRecord) -> str:
        return obj.recipient.name


class ReplyOut(Schema):
    code: uuid.UUID
    author: str
    organization: str
    body: str
    created_at: dt.datetime

    @staticmethod
    def resolve_author(obj: Post) -> str:
        return str(obj.author.user)

    @staticmethod
    def resolve_organization(obj: Post) -> str:
        return obj.author.organization.name


class PostOut(ReplyOut):
    category: Category
    mentioned_roles: list[str]
    reply_due: dt.date | None
    next_visit: dt.date | None
    plan_changed: bool
    plan_summary: str
    care_points: str
    end_of_life: str
    read_by: list[str]
    replies: list[ReplyOut]

    @staticmethod
    def resolve_read_by(obj: Post) -> list[str]:
        return list(getattr(obj, "read_by", []))

    @staticmethod
    def resolve_replies(obj: Post) -> list[Post]:
        return list(getattr(obj, "thread", []))


class TimelineOut(Schema):
    """One page of threads, read from Django's Page."""

    count: int
    page: int
    pages: int
    items: list[PostOut]

    @staticmethod
    def resolve_count(obj: Page[Post]) -> int:
        return obj.paginator.count

    @staticmethod
    def resolve_page(obj: Page[Post]) -> int:
        return obj.number

    @staticmethod
    def resolve_pages(obj: Page[Post]) -> int:
        return obj.paginator.num_pages

    @staticmethod
    def resolve_items(obj: Page[Post]) -> list[Post]:
        return list(obj.object_list)


class DoctorContactOut(Schema):
    label: str
    name: str
    organization: str
    phone: str
    source: str


class SheetOut(Schema):
    """救急医療情報シート as it is now; version 0 when nothing was saved yet."""

    diagnoses: str = ""
    medicines: str = ""
    allergies: str = ""
    family_doctor: str = ""
    resuscitation: Resuscitation | None = None
    resuscitation_confirmed_on: dt.date | None = None
    notes: str = ""
    key_person: str
    emergency_contacts: str
    doctors: list[DoctorContactOut]
    version: int = 0
    updated_at: dt.datetime | None = None


class AcpOut(Schema):
    number: int
    what_matters: str
    place_of_care: str
    place_of_death: str
    treatment_wishes: str
    proxy: str
    participants: str
    discussed_on: dt.date
    next_review_on: dt.date | None
    changed: list[str]
    recorded_by: str
    recorded_at: dt.datetime

    @staticmethod
    def resolve_recorded_by(obj: AcpRecord) -> str:
        return f"{obj.recorded_by.user}（{obj.recorded_by.organization.name}）"


class OrgRef(Schema):
    code: uuid.UUID
    name: str


class FormRow(Schema):
    """A shared form without its items (the lists)."""

    code: uuid.UUID
    patient: uuid.UUID
    kind: FormKind
    kind_label: str
    status: str
    sender: OrgRef
    recipient: OrgRef | None
    admission_date: dt.date | None
    version: int
    sent_version: int | None
    first_sent_at: dt.datetime | None
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    read_at: dt.datetime | None
    read_by: str | None
    days_to_send: int | None
    replied_at: dt.datetime | None

    @staticmethod
    def resolve_patient(obj: SharedForm) -> uuid.UUID:
        return obj.patient.code

    @staticmethod
    def resolve_kind_label(obj: SharedForm) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_read_by(obj: SharedForm) -> str | None:
        return str(obj.read_by.user) if obj.read_by else None

    @staticmethod
    def resolve_days_to_send(obj: SharedForm) -> int | None:
        return obj.days_to_send()


class FormOut(FormRow):
    """One form with the items of the version the caller sees (the sent one for the
    recipient) and the reply."""

    shown_version: int
    content: Content
    reply: str


class SincePostOut(ReplyOut):
    category: Category
    parent: uuid.UUID | None
    plan_changed: bool
    plan_summary: str
    next_visit: dt.date | None

    @staticmethod
    def resolve_parent(obj: Post) -> uuid.UUID | None:
        code: uuid.UUID | None = getattr(obj, "parent_code", None)  # annotated by the action
        return code


class SinceOut(Schema):
    """What the others recorded since the caller's own last post on the timeline."""

    since: dt.datetime | None
    posts: list[SincePostOut]
    sheet_updated: bool
    acp_versions: int
    forms_received: int
    truncated: bool
