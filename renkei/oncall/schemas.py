"""What /api/v1/oncall/ returns, read from model instances."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Field, Schema

from renkei.oncall.models import (
    CoverSearch,
    CoverShare,
    CoverVolunteer,
    Rota,
    RotaMember,
    RotaMonth,
    Shift,
    SwapRequest,
)


class _WithOrganization(Schema):
    """A row of one organisation (a rota member, a volunteer): its code, name and code."""

    code: uuid.UUID
    organization: str
    organization_code: uuid.UUID

    @staticmethod
    def resolve_organization(obj: RotaMember | CoverVolunteer) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_organization_code(obj: RotaMember | CoverVolunteer) -> uuid.UUID:
        return obj.organization.code


class MemberOut(_WithOrganization):
    doctor: str
    phone: str
    is_active: bool
    sort_order: int


class RotaOut(Schema):
    code: uuid.UUID
    name: str
    kind: str
    rotation: str
    organizer: str
    area: str = Field(description="対象地域（二次医療圏・市区町村）")
    gap_alert_hours: int
    members_swap_freely: bool
    contact: str

    @staticmethod
    def resolve_organizer(obj: Rota) -> str:
        return obj.organizer.name

    @staticmethod
    def resolve_area(obj: Rota) -> str:
        return obj.area_label()


class ShiftOut(Schema):
    code: uuid.UUID
    day: dt.date
    day_type: str
    holiday_name: str
    label: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    member: MemberOut | None
    version: int


class MonthOut(Schema):
    month: str = Field(description="YYYY-MM")
    status: str
    published_at: dt.datetime | None
    gaps: int
    shifts: list[ShiftOut]

    @staticmethod
    def resolve_month(obj: RotaMonth) -> str:
        return f"{obj.month:%Y-%m}"

    @staticmethod
    def resolve_gaps(obj: RotaMonth) -> int:
        return sum(1 for s in obj.shifts.all() if s.member_id is None)

    @staticmethod
    def resolve_shifts(obj: RotaMonth) -> list[Shift]:
        return list(obj.shifts.all())


class OnDutyOut(Schema):
    rota: RotaOut
    now: ShiftOut | None = Field(
        description="いまの枠（当番の時間帯でなければ null。member が null なら空き）"
    )
    next: ShiftOut | None


class SwapOut(Schema):
    code: uuid.UUID
    shift: ShiftOut
    from_member: MemberOut
    to_member: MemberOut
    note: str
    status: str
    created_at: dt.datetime
    decided_at: dt.datetime | None

    @staticmethod
    def resolve_shift(obj: SwapRequest) -> Shift:
        return obj.shift


class CountOut(Schema):
    changed: int


# The 副主治医 search and the 往診時医療情報連携加算 record (ADR 0016).


class VolunteerOut(_WithOrganization):
    role: str
    doctor: str
    phone: str
    message: str
    status: str


class SearchOut(Schema):
    """The anonymous case, as every recipient sees it."""

    code: uuid.UUID
    requester: str
    wanted: str
    municipality: str
    age_band: str
    disease_group: str
    needs: str
    status: str
    created_at: dt.datetime

    @staticmethod
    def resolve_requester(obj: CoverSearch) -> str:
        return obj.requester.name

    @staticmethod
    def resolve_municipality(obj: CoverSearch) -> str:
        return obj.municipality.code


class SearchDetailOut(SearchOut):
    patient: uuid.UUID | None = Field(description="募集元にだけ返します")
    volunteers: list[VolunteerOut] = Field(description="募集元には全件、名乗り出た側には自院の分")

    @staticmethod
    def resolve_patient(obj: CoverSearch) -> uuid.UUID | None:
        return obj.patient.code if getattr(obj, "shown_to_requester", False) else None

    @staticmethod
    def resolve_volunteers(obj: CoverSearch) -> list[CoverVolunteer]:
        return list(getattr(obj, "shown_volunteers", []))


class ShareOut(Schema):
    month: str
    shared_on: dt.date
    note: str

    @staticmethod
    def resolve_month(obj: CoverShare) -> str:
        return f"{obj.month:%Y-%m}"
