"""介護サービス情報公表: one 24-column file per service type, keyed by 事業所番号."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from renkei.directory.imports.bulk import (
    _Built,
    _facility_updates,
    _in,
    _plan_new_facilities,
    _update_facilities,
    build_rows,
    insert_built,
    update_rows,
)
from renkei.directory.imports.columns import (
    KAIGO_READ,
    KAIGO_SERVICE_NAMES,
    SERVICE_CODE_BY_NAME,
    _hkey,
)
from renkei.directory.imports.processor import Outcome, _Context, _Prepared, _Processor, _Written
from renkei.directory.imports.results import CREATED, KAIGO, NOTE, UNCHANGED, UPDATED, RowReport
from renkei.directory.imports.values import (
    SHARED_FIELDS,
    _code_with_zeros,
    _count,
    _digits,
    _fill_position,
    _phone,
    _point,
    _rank,
    _strip_prefecture,
    _url,
)
from renkei.directory.models import PLACE_FIELDS, Facility, FacilityService
from renkei.directory.vocabulary import KAIGO_SERVICE_KIND

# ---- 介護サービス情報公表 ------------------------------------------------------------------

KAIGO_FIELDS = (
    "name",
    "kana",
    "corporation_number",
    "corporation_name",
    "municipality_id",
    *PLACE_FIELDS,
    "phone",
    "fax",
    "website",
    "hours",
    "capacity",
    "source",
    "source_date",
    "kind",
)


@dataclass(slots=True)
class _KaigoRow:
    line: int
    office: str
    service_code: str
    service_name: str
    capacity: int | None
    fields: dict[str, Any]
    point: tuple[float, float] | None
    notes: list[str]


@dataclass(slots=True)
class _State:
    id: int | None
    orig: dict[str, Any] | None
    cur: dict[str, Any]
    extra: dict[str, Any]
    services: dict[str, list[Any]]  # code -> [id, name, capacity]
    orig_services: dict[str, tuple[str, int | None]]
    profile_edited: bool


class _KaigoProcessor(_Processor):
    COLUMNS = KAIGO_READ

    def __init__(self, ctx: _Context, index: dict[str, int]) -> None:
        super().__init__(ctx, index)
        m = re.search(r"jigyosho_(\d{3})", ctx.filename)
        self.file_code = m.group(1) if m and m.group(1) in KAIGO_SERVICE_KIND else None
        self.services: dict[str, str | None] = {}
        self.seen: dict[int, int] = {}

    def service_code(self, text: str) -> str | None:
        if text not in self.services:
            self.services[text] = SERVICE_CODE_BY_NAME.get(_hkey(text)) or self.file_code
        return self.services[text]

    def parse(self, line: int, row: list[str]) -> _KaigoRow | None:
        (
            muni_s,
            name,
            kana,
            service_text,
            address,
            extra,
            lat_s,
            lng_s,
            tel,
            fax_s,
            corp_no,
            corp,
            raw_office,
            days,
            days_note,
            cap_s,
            url,
        ) = self.cells(row)
        office, padded = _code_with_zeros(raw_office, 10)
        if len(office) != 10:
            self.reject(line, raw_office, f"事業所番号「{raw_office}」が10桁の数字ではありません")
            return None
        muni = self.municipality6(line, office, muni_s)
        if muni is None:
            return None
        if not name:
            self.reject(line, office, "事業所名が空欄です")
            return None
        address = _strip_prefecture(address, muni.prefecture)
        if not address:
            self.reject(line, office, "住所が空欄です")
            return None
        service_code = self.service_code(service_text)
        if service_code is None:
            self.reject(line, office, f"サービスの種類「{service_text}」を判別できません")
            return None
        point = _point(lat_s, lng_s)
        if isinstance(point, str):
            self.reject(line, office, point)
            return None
        key = int(office) * 1000 + int(service_code)
        if key in self.seen:
            self.reject(
                line,
                office,
                f"同じ事業所番号・サービスの行が{self.seen[key]}行目にもあります（後の行は不採用）",
            )
            return None
        self.seen[key] = line
        if not self.in_scope(muni.id):
            return None

        notes = []
        if padded:
            notes.append(f"事業所番号「{raw_office}」の先頭の0を補いました")
        phone, ok = _phone(tel)
        if not ok:
            notes.append(f"電話番号「{tel}」の形式が正しくないため空欄にしました")
        fax, ok = _phone(fax_s)
        if not ok:
            notes.append(f"FAX番号「{fax_s}」の形式が正しくないため空欄にしました")
        capacity, ok = _count(cap_s)
        if not ok:
            notes.append(f"定員「{cap_s}」が数値ではないため空欄にしました")
        corp_no = _digits(corp_no)
        if extra and extra in address:
            extra = ""
        fields: dict[str, Any] = {
            "name": name[:200],
            "kana": kana[:200],
            "corporation_number": corp_no if len(corp_no) == 13 else "",
            "corporation_name": corp[:200],
            "municipality_id": muni.id,
            "address": address[:200],
            "address_extra": extra[:200],
            "phone": phone,
            "fax": fax,
            "website": _url(url),
            "hours": f"{days} {days_note}".strip()[:300],
            "capacity": capacity,
            "source": KAIGO,
        }
        if self.ctx.source_date is not None:
            fields["source_date"] = self.ctx.source_date
        return _KaigoRow(
            line=line,
            office=office,
            service_code=service_code,
            service_name=(service_text or KAIGO_SERVICE_NAMES[service_code])[:60],
            capacity=capacity,
            fields=fields,
            point=point,
            notes=notes,
        )

    pipelined = True

    def key(self, parsed: _KaigoRow) -> str:
        return parsed.office

    def prepare(self, batch: list[_KaigoRow]) -> _Prepared:
        offices = list({r.office for r in batch})
        load = ["id", "info_updated_at", "short_name", *KAIGO_FIELDS]
        existing = {
            f["care_office_number"]: f
            for f in _in(Facility, "care_office_number", offices).values(
                "care_office_number", *load
            )
        }
        services: dict[int, dict[str, list[Any]]] = {}
        if existing:
            for sid, fid, code, sname, cap in _in(
                FacilityService, "facility", [f["id"] for f in existing.values()]
            ).values_list("id", "facility_id", "service_code", "service_name", "capacity"):
                services.setdefault(fid, {})[code] = [sid, sname, cap]

        states: dict[str, _State] = {}
        outcomes: list[Outcome] = []
        notes: list[RowReport] = []
        for r in batch:
            st = states.get(r.office)
            if st is None:
                st = states[r.office] = self._state(existing.get(r.office), services)
            outcome, point_note = self._apply(st, r)
            outcomes.append((r.line, outcome))
            for n in [*r.notes, *([point_note] if point_note else [])]:
                notes.append(RowReport(r.line, r.office, n, NOTE))

        return _Prepared(_Written(outcomes, notes), self._plan(states), set(states))

    @staticmethod
    def _state(row: dict[str, Any] | None, services: dict[int, dict[str, list[Any]]]) -> _State:
        if row is None:
            return _State(None, None, {}, {"short_name": ""}, {}, {}, False)
        cur = {k: row[k] for k in KAIGO_FIELDS}
        svc = services.get(row["id"], {})
        return _State(
            id=row["id"],
            orig=dict(cur),
            cur=cur,
            extra={"short_name": row["short_name"]},
            services=svc,
            orig_services={c: (v[1], v[2]) for c, v in svc.items()},
            profile_edited=row["info_updated_at"] is not None,
        )

    def _apply(self, st: _State, r: _KaigoRow) -> tuple[str, str | None]:
        """Apply one row to the facility's in-memory state; the outcome and a position note."""
        point_note = None
        new_facility = st.id is None and not st.cur
        # Only an existing facility's fields are compared afterwards.
        before_cur = {} if new_facility else dict(st.cur)
        before_svc = st.services.get(r.service_code)
        # The facility's fields follow its highest-ranked service, whatever the file order.
        rank = _rank(r.service_code)
        primary = len(st.services) == 0 or all(
            c == r.service_code or _rank(c) < rank for c in st.services
        )
        if before_svc is None:
            st.services[r.service_code] = [None, r.service_name, r.capacity]
        else:
            before_svc = list(before_svc)
            st.services[r.service_code][1:] = [r.service_name, r.capacity]
        if primary:
            if st.profile_edited:
                for k, v in r.fields.items():
                    if k not in SHARED_FIELDS or not st.cur.get(k):
                        st.cur[k] = v
            else:
                st.cur.update(r.fields)
            if r.point is not None:
                st.cur["lat"], st.cur["lng"] = r.point
            else:
                point_note = _fill_position(
                    st.cur, self.ctx.points.get(r.fields["municipality_id"])
                )
            if st.id is None:
                st.cur.setdefault("source_date", None)
        top = max(st.services, key=_rank) if len(st.services) > 1 else r.service_code
        st.cur["kind"] = KAIGO_SERVICE_KIND.get(top, ("other_care", 0))[0]
        if new_facility or before_svc is None:
            return CREATED, point_note
        if before_svc[1:] != st.services[r.service_code][1:] or before_cur != st.cur:
            return UPDATED, point_note
        return UNCHANGED, point_note

    def _plan(self, states: dict[str, _State]) -> Callable[[], None]:
        """What prepare() can work out of the writes (all of it where ids can be reserved);
        the returned save() does the rest and writes."""
        new = [(office, st) for office, st in states.items() if st.id is None]
        ids, create = _plan_new_facilities(
            [(office, st.cur) for office, st in new], "care_office_number"
        )
        if ids is not None:
            for office, st in new:
                st.id = ids[office]
        updates = _facility_updates(
            [
                (st.id, st.cur, st.extra)
                for st in states.values()
                if st.id is not None and st.orig is not None and st.orig != st.cur
            ]
        )
        services = self._service_changes(states) if ids is not None else None

        def save() -> None:
            if new:
                created = create()
                for office, st in new:
                    st.id = created[office]
            _update_facilities(updates, KAIGO_FIELDS)
            built, changed = services or self._service_changes(states)
            insert_built(built)
            update_rows(FacilityService, ["service_name", "capacity"], changed)

        return save

    @staticmethod
    def _service_changes(
        states: dict[str, _State],
    ) -> tuple[_Built, list[tuple[int, dict[str, Any]]]]:
        create_svc: list[dict[str, Any]] = []
        update_svc: list[tuple[int, dict[str, Any]]] = []
        for st in states.values():
            for code, (sid, sname, cap) in st.services.items():
                if sid is None:
                    create_svc.append(
                        {
                            "facility_id": st.id,
                            "service_code": code,
                            "service_name": sname,
                            "capacity": cap,
                        }
                    )
                elif st.orig_services.get(code) != (sname, cap):
                    update_svc.append((sid, {"service_name": sname, "capacity": cap}))
        return build_rows(FacilityService, create_svc), update_svc
