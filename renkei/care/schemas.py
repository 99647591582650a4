"""What the care API answers: ninja schemas read from model instances.

The request bodies are the actions' inputs (renkei.care.actions); these are the outputs.
"""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Schema

from renkei.care.models import CareLevel, CareTeamMember, Patient, Sex, TeamRole


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
