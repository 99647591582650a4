"""What /api/v1/oncall/ returns, read from model instances."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Field, Schema

from renkei.oncall.models import Rota, RotaMember, RotaMonth, Shift, SwapRequest


class MemberOut(Schema):
    code: uuid.UUID
    organization: str
    organization_code: uuid.UUID
    doctor: str
    phone: str
    is_active: bool
    sort_order: int

    @staticmethod
    def resolve_organization(obj: RotaMember) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_organization_code(obj: RotaMember) -> uuid.UUID:
        return obj.organization.code


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
