"""医療情報ネット: the 施設票 (key ID) and the 診療科・診療時間票 (key ID + 診療科目コード)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from renkei.directory.imports.bulk import (
    _facility_updates,
    _in,
    _plan_new_facilities,
    _update_facilities,
    insert_rows,
    update_rows,
)
from renkei.directory.imports.columns import DAYS, IRYOU_KIND, IRYOU_KIND_LABEL
from renkei.directory.imports.processor import (
    Outcome,
    _Context,
    _get,
    _Prepared,
    _Processor,
    _Written,
)
from renkei.directory.imports.results import CREATED, NOTE, UNCHANGED, UPDATED, RowReport
from renkei.directory.imports.values import (
    SHARED_FIELDS,
    _code_with_zeros,
    _count,
    _digits,
    _fill_position,
    _point,
    _strip_prefecture,
    _time_re,
    _url,
)
from renkei.directory.models import (
    Facility,
    FacilityKind,
    Specialty,
)
from renkei.regions.models import code6_from

# ---- 医療情報ネット 施設票 ------------------------------------------------------------------

IRYOU_FIELDS = (
    "kind",
    "name",
    "kana",
    "short_name",
    "municipality_id",
    "address",
    "lat",
    "lng",
    "website",
    "closed_days",
    "beds",
    "source",
    "source_date",
)


@dataclass(slots=True)
class _IryouRow:
    line: int
    medical_id: str
    fields: dict[str, Any]
    point: tuple[float, float] | None
    notes: list[str]


class _IryouFacilityProcessor(_Processor):
    COLUMNS = (
        "ID",
        "正式名称",
        "正式名称（フリガナ）",
        "略称",
        "機関区分",
        "都道府県コード",
        "市区町村コード",
        "所在地",
        "所在地座標（緯度）",
        "所在地座標（経度）",
        "案内用ホームページアドレス",
        "合計病床数",
    )

    def __init__(self, ctx: _Context, index: dict[str, int]) -> None:
        super().__init__(ctx, index)
        c = self.col
        self.c_holiday, self.c_other = c("祝日に休診"), c("その他の休診日（gw、お盆等）")
        self.c_weekly = [(d, c(f"毎週決まった曜日に休診（{d}）")) for d, _ in DAYS[:7]]
        self.c_weeks = {
            d: [(n, c(f"決まった週に休診（定期週）第{n}週（{d}）")) for n in range(1, 6)]
            for d, _ in DAYS[:7]
        }
        name = Path(ctx.filename).name.lower()
        self.file_kind: str | None = None
        for prefix, word, kind in (
            ("01-", "hospital", FacilityKind.HOSPITAL),
            ("02-", "clinic", FacilityKind.CLINIC),
            ("03-", "dental", FacilityKind.DENTAL),
        ):
            if name.startswith(prefix) or word in name:
                self.file_kind = kind
                break
        self.seen: dict[str, int] = {}

    def parse(self, line: int, row: list[str]) -> _IryouRow | None:
        (
            raw_id,
            name,
            kana,
            short,
            kind_s,
            pref_s,
            city_s,
            address,
            lat_s,
            lng_s,
            url,
            beds_s,
        ) = self.cells(row)
        medical_id, padded = _code_with_zeros(raw_id, 13)
        if len(medical_id) != 13:
            self.reject(line, raw_id, f"ID「{raw_id}」が13桁の数字ではありません")
            return None
        kind_code = _digits(kind_s)
        kind = IRYOU_KIND.get(kind_code) or (None if kind_s else self.file_kind)
        if kind is None:
            label = IRYOU_KIND_LABEL.get(kind_code, "不明")
            self.reject(
                line,
                medical_id,
                f"機関区分「{kind_s}」（{label}）は取り込めません（1 病院・2 診療所・3 歯科診療所のみ）",
            )
            return None
        pref, city = _digits(pref_s), _digits(city_s)
        if not (1 <= len(pref) <= 2 and 1 <= len(city) <= 3):
            self.reject(
                line,
                medical_id,
                f"都道府県コード「{pref_s}」・市区町村コード「{city_s}」が数字2桁・3桁ではありません",
            )
            return None
        muni = self.ctx.munis.get(code6_from(pref, city))
        if muni is None:
            self.reject(
                line,
                medical_id,
                f"都道府県コード「{pref_s}」・市区町村コード「{city_s}」の市区町村が見つかりません",
            )
            return None
        if not name:
            self.reject(line, medical_id, "正式名称が空欄です")
            return None
        address = _strip_prefecture(address, muni.prefecture)
        if not address:
            self.reject(line, medical_id, "所在地が空欄です")
            return None
        point = _point(lat_s, lng_s)
        if isinstance(point, str):
            self.reject(line, medical_id, point)
            return None
        if medical_id in self.seen:
            self.reject(
                line,
                medical_id,
                f"同じIDの行が{self.seen[medical_id]}行目にもあります（後の行は不採用）",
            )
            return None
        self.seen[medical_id] = line
        if not self.in_scope(muni.id):
            return None

        notes = []
        if padded:
            notes.append(f"ID「{raw_id}」の先頭の0を補いました")
        beds, ok = _count(beds_s)
        if not ok:
            notes.append(f"合計病床数「{beds_s}」が数値ではないため空欄にしました")
        fields: dict[str, Any] = {
            "kind": kind,
            "name": name[:200],
            "kana": kana[:200],
            "short_name": short[:100],
            "municipality_id": muni.id,
            "address": address[:200],
            "website": _url(url),
            "closed_days": self._closed_days(row),
            "beds": beds,
            "source": "iryou",
        }
        if self.ctx.source_date is not None:
            fields["source_date"] = self.ctx.source_date
        return _IryouRow(line, medical_id, fields, point, notes)

    def _closed_days(self, row: list[str]) -> str:
        """The 休診 flags (1 = open, 0 = closed; blank = not reported) as text: 日曜、第2・4土曜、祝日."""
        weekly, by_week = [], []
        for d, i in self.c_weekly:
            weeks = [str(n) for n, j in self.c_weeks[d] if _get(row, j) == "0"]
            if _get(row, i) == "0" or len(weeks) == 5:
                weekly.append(f"{d}曜")
            elif weeks:
                by_week.append(f"第{'・'.join(weeks)}{d}曜")
        parts = weekly + by_week
        if _get(row, self.c_holiday) == "0":
            parts.append("祝日")
        other = _get(row, self.c_other)
        if other:
            parts.append(other)
        return "、".join(parts)[:200]

    pipelined = True

    def key(self, parsed: _IryouRow) -> str:
        return parsed.medical_id

    def prepare(self, batch: list[_IryouRow]) -> _Prepared:
        load = ["id", "info_updated_at", "corporation_name", *IRYOU_FIELDS]
        existing = {
            f["medical_id"]: f
            for f in _in(Facility, "medical_id", [r.medical_id for r in batch]).values(
                "medical_id", *load
            )
        }
        outcomes: list[Outcome] = []
        notes: list[RowReport] = []
        new: list[tuple[str, dict[str, Any]]] = []
        changed: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        for r in batch:
            row = existing.get(r.medical_id)
            cur: dict[str, Any] = {k: row[k] for k in IRYOU_FIELDS} if row else {}
            orig = dict(cur)
            edited = bool(row and row["info_updated_at"] is not None)
            for k, v in r.fields.items():
                if k in SHARED_FIELDS and edited and cur.get(k):
                    continue
                cur[k] = v
            if r.point is not None:
                cur["lat"], cur["lng"] = r.point
            else:
                notes.append(
                    RowReport(
                        r.line,
                        r.medical_id,
                        _fill_position(cur, self.ctx.points.get(r.fields["municipality_id"])),
                        NOTE,
                    )
                )
            notes += [RowReport(r.line, r.medical_id, n, NOTE) for n in r.notes]
            if row is None:
                cur.setdefault("source_date", None)
                new.append((r.medical_id, cur))
                outcomes.append((r.line, CREATED))
            elif cur != orig:
                changed.append((row["id"], cur, {"corporation_name": row["corporation_name"]}))
                outcomes.append((r.line, UPDATED))
            else:
                outcomes.append((r.line, UNCHANGED))
        _, create = _plan_new_facilities(new, "medical_id")
        updates = _facility_updates(changed)

        def save() -> None:
            if new:
                create()
            _update_facilities(updates, IRYOU_FIELDS)

        return _Prepared(_Written(outcomes, notes), save, {r.medical_id for r in batch})


# ---- 医療情報ネット 診療科・診療時間票 ------------------------------------------------------

HOURS_PLACEHOLDER = ("00:00", "00:00")


@dataclass(slots=True)
class _HoursRow:
    line: int
    medical_id: str
    code: str
    name: str
    band: int
    days: dict[str, dict[str, Any]]


class _IryouHoursProcessor(_Processor):
    COLUMNS = ("ID", "診療科目コード", "診療科目名", "診療時間帯")

    def __init__(self, ctx: _Context, index: dict[str, int]) -> None:
        super().__init__(ctx, index)
        c = self.col
        self.c_days = [
            (
                day,
                key,
                c(f"{day}_診療開始時間"),
                c(f"{day}_診療終了時間"),
                c(f"{day}_外来受付開始時間"),
                c(f"{day}_外来受付終了時間"),
            )
            for day, key in DAYS
        ]
        self.seen: dict[int, int] = {}
        self.written: set[tuple[int, str]] = set()

    def group(self, parsed: _HoursRow) -> object:
        return parsed.medical_id

    def parse(self, line: int, row: list[str]) -> _HoursRow | None:
        raw_id, code_s, name, band_s = self.cells(row)
        medical_id, _ = _code_with_zeros(raw_id, 13)
        if len(medical_id) != 13:
            self.reject(line, raw_id, f"ID「{raw_id}」が13桁の数字ではありません")
            return None
        code = _digits(code_s)
        if len(code) != 5:
            self.reject(line, medical_id, f"診療科目コード「{code_s}」が5桁の数字ではありません")
            return None
        if not name:
            self.reject(line, medical_id, f"診療科目コード{code}の診療科目名が空欄です")
            return None
        band_d = _digits(band_s)
        if not band_d or not 1 <= int(band_d) <= 9:
            self.reject(line, medical_id, f"診療時間帯「{band_s}」が1〜9の数字ではありません")
            return None
        band = int(band_d)
        key = int(medical_id) * 1_000_000 + int(code) * 10 + band
        if key in self.seen:
            self.reject(
                line,
                medical_id,
                f"同じID・診療科目コード・診療時間帯の行が{self.seen[key]}行目にもあります（後の行は不採用）",
            )
            return None
        days: dict[str, dict[str, Any]] = {}
        for day, dkey, i_start, i_end, i_rs, i_re in self.c_days:
            start, end, rs, re_ = (
                row[i].strip() if i is not None else "" for i in (i_start, i_end, i_rs, i_re)
            )
            if (start, end) == HOURS_PLACEHOLDER:
                start = end = ""
            if (rs, re_) == HOURS_PLACEHOLDER:
                rs = re_ = ""
            if not (start or end or rs or re_):
                continue
            if bool(start) != bool(end):
                self.reject(
                    line, medical_id, f"{day}曜の診療開始・終了時間の片方だけが入っています"
                )
                return None
            for value in (start, end, rs, re_):
                if value and not _time_re.match(value):
                    self.reject(
                        line, medical_id, f"{day}曜の時刻「{value}」が HH:MM の形式ではありません"
                    )
                    return None
            entry: dict[str, Any] = {"band": band, "start": start, "end": end}
            if rs:
                entry["reception_start"] = rs
            if re_:
                entry["reception_end"] = re_
            days[dkey] = entry
        self.seen[key] = line
        return _HoursRow(line, medical_id, code, name[:60], band, days)

    def write(self, batch: list[_HoursRow]) -> _Written:
        facilities = {
            mid: (fid, muni)
            for mid, fid, muni in _in(
                Facility, "medical_id", {r.medical_id for r in batch}
            ).values_list("medical_id", "id", "municipality_id")
        }
        existing = {
            (fid, code): (sid, name, hours)
            for sid, fid, code, name, hours in _in(
                Specialty, "facility", [fid for fid, _ in facilities.values()]
            ).values_list("id", "facility_id", "code", "name", "hours")
        }
        groups: dict[tuple[str, str], list[_HoursRow]] = {}
        for r in batch:
            groups.setdefault((r.medical_id, r.code), []).append(r)

        out = _Written([], [])
        create: list[Specialty] = []
        update: list[Specialty] = []
        for (mid, code), rows in groups.items():
            fac = facilities.get(mid)
            if fac is None:
                out.reports += [
                    RowReport(
                        r.line,
                        mid,
                        f"ID「{mid}」の医療機関が登録されていません（先に施設票を取り込んでください）",
                    )
                    for r in rows
                ]
                continue
            fid, muni = fac
            if self.ctx.scope is not None and muni not in self.ctx.scope:
                out.skipped += len(rows)
                continue
            before = existing.get((fid, code))
            # Bands of one speciality split across batches merge with what this run wrote.
            merged = (
                {d: list(v) for d, v in before[2].items()}
                if before and (fid, code) in self.written
                else {}
            )
            for r in rows:
                for dkey, entry in r.days.items():
                    entries = [e for e in merged.get(dkey, []) if e.get("band") != r.band]
                    merged[dkey] = sorted([*entries, entry], key=lambda e: e.get("band", 0))
            hours = {key: merged[key] for _, key in DAYS if key in merged}
            name = rows[0].name
            if before is None:
                create.append(Specialty(facility_id=fid, code=code, name=name, hours=hours))
                outcome = CREATED
            elif (before[1], before[2]) != (name, hours):
                update.append(Specialty(pk=before[0], name=name, hours=hours))
                outcome = UPDATED
            else:
                outcome = UNCHANGED
            out.outcomes += [(r.line, outcome) for r in rows]
        insert_rows(
            Specialty,
            [
                {"facility_id": c.facility_id, "code": c.code, "name": c.name, "hours": c.hours}
                for c in create
            ],
        )
        update_rows(
            Specialty,
            ["name", "hours"],
            [(u.pk, {"name": u.name, "hours": u.hours}) for u in update],
        )
        self.written.update((s.facility_id, s.code) for s in create)
        self.written.update((facilities[mid][0], code) for mid, code in groups if mid in facilities)
        return out
