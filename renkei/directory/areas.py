"""二次保健医療圏 from an administrator's CSV: the areas of a prefecture and their municipalities.

The reference data ships the areas of Kanagawa and Iwate only (regions/data). A prefecture's
officer, or the 運営事務局 for any prefecture, uploads a CSV with one row per municipality:

    都道府県,二次医療圏,市区町村コード,市区町村名
    宮城県,仙南,042064,白石市
    宮城県,仙台,041009,仙台市          ← a 政令市 brings its wards along
    宮城県,仙台,042072,名取市

市区町村コード is the 6-digit 全国地方公共団体コード (5 digits are accepted: the check digit is
added); 市区町村名 is optional and only checked against the code. The file is each listed
prefecture's complete list: its areas become exactly those of the file (an area kept by name
keeps its id, so saved searches by area still work; areas no longer listed are removed) and its
municipalities not in the file belong to no area afterwards (listed in the result). A ward may
be listed on its own to put it in another area than its city (川崎市's wards). Any problem in
any row refuses the whole file and changes nothing (ADR 0041).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.http import HttpRequest

from renkei.accounts.models import AuditEntry, Membership, OrgKind
from renkei.lib import exports
from renkei.lib.actions import ActionError, Forbidden
from renkei.lib.text import nfkc
from renkei.regions.models import Municipality, Prefecture, SecondaryArea, jis_check_digit

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
SHOWN_PROBLEMS = 50
HEADERS = {
    "prefecture": ("都道府県", "都道府県名"),
    "area": ("二次医療圏", "二次保健医療圏", "医療圏"),
    "code": ("市区町村コード", "団体コード", "全国地方公共団体コード"),
    "name": ("市区町村名", "市区町村"),
}


class AreaFileRefused(ActionError):
    """The file as a whole is refused; `problems` lists each row's problem (「3行目: …」)."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:SHOWN_PROBLEMS]
        more = len(problems) - len(shown)
        super().__init__(
            f"{len(problems)}件の問題があるため、取り込みませんでした（何も変更していません）。"
        )
        self.problems = shown + ([f"ほか{more}件"] if more else [])


@dataclass
class AreaRow:
    line: int
    prefecture: Prefecture
    area: str
    municipality: Municipality


@dataclass
class PrefectureResult:
    prefecture: str
    areas: list[tuple[str, int]]  # (name, municipalities listed) in file order
    created: int = 0
    removed: list[str] = field(default_factory=list)
    unassigned: list[str] = field(default_factory=list)


@dataclass
class AreaImportResult:
    prefectures: list[PrefectureResult]
    notes: list[str]

    @property
    def municipalities(self) -> int:
        return sum(n for p in self.prefectures for _, n in p.areas)


def allowed_prefectures(membership: Membership) -> set[int] | None:
    """The prefectures whose areas `membership` may replace: None for all (運営事務局), the own
    prefecture for a prefecture's staff; Forbidden for anyone else."""
    org = membership.organization
    if org.kind == OrgKind.OPERATOR:
        return None
    if org.kind == OrgKind.PREFECTURE and org.prefecture_id:
        return {org.prefecture_id}
    raise Forbidden("二次医療圏を登録できるのは、都道府県と運営事務局の担当者だけです")


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ActionError(f"ファイルが大きすぎます（上限 {MAX_BYTES // 1024}KB）", field="file")
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ActionError(
        "文字コードを判別できません。UTF-8 または Shift_JIS の CSV を指定してください", field="file"
    )


def _columns(header: list[str]) -> dict[str, int]:
    names = [nfkc(h) for h in header]
    found: dict[str, int] = {}
    for key, accepted in HEADERS.items():
        for i, name in enumerate(names):
            if name in accepted:
                found[key] = i
                break
    missing = [HEADERS[k][0] for k in ("prefecture", "area", "code") if k not in found]
    if missing:
        raise AreaFileRefused(
            [
                f"1行目（見出し）: 「{'」「'.join(missing)}」の列がありません。"
                "見出しは 都道府県,二次医療圏,市区町村コード,市区町村名 としてください"
            ]
        )
    return found


def _bare(name: str) -> str:
    """「三浦郡葉山町」 and 「葉山町」 name the same town."""
    return re.sub(r"^.+?郡(?=.+[町村]$)", "", nfkc(name))


def parse(text: str) -> tuple[list[AreaRow], list[str]]:
    """The rows, and notes that do not refuse the file; AreaFileRefused with every problem."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    while rows and not any(c.strip() for c in rows[0]):
        rows.pop(0)
    if not rows:
        raise ActionError("ファイルが空です", field="file")
    cols = _columns(rows[0])
    if len(rows) - 1 > MAX_ROWS:
        raise ActionError(f"行が多すぎます（上限 {MAX_ROWS:,}行）", field="file")
    prefectures = {p.name: p for p in Prefecture.objects.all()}
    codes = [nfkc(r[cols["code"]]) for r in rows[1:] if len(r) > cols["code"]]
    wanted = {c + jis_check_digit(c) if re.fullmatch(r"\d{5}", c) else c for c in codes}
    municipalities = {
        m.code: m for m in Municipality.objects.filter(code__in=wanted).select_related("parent")
    }
    problems: list[str] = []
    notes: list[str] = []
    parsed: list[AreaRow] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in raw):
            continue

        def cell(key: str, raw: list[str] = raw) -> str:
            i = cols.get(key)
            return nfkc(raw[i]) if i is not None and i < len(raw) else ""

        pref_name, area, code, name = cell("prefecture"), cell("area"), cell("code"), cell("name")
        pref = prefectures.get(pref_name)
        if pref is None:
            problems.append(f"{line}行目: 都道府県「{pref_name}」がわかりません（例: 宮城県）")
            continue
        if not area:
            problems.append(f"{line}行目: 二次医療圏の名前が空です")
            continue
        if len(area) > 40:
            problems.append(f"{line}行目: 二次医療圏の名前が長すぎます（40文字まで）")
            continue
        if re.fullmatch(r"\d{5}", code):
            code += jis_check_digit(code)
        if not re.fullmatch(r"\d{6}", code):
            problems.append(f"{line}行目: 市区町村コード「{code}」は6桁（または5桁）の数字です")
            continue
        if jis_check_digit(code[:5]) != code[5]:
            problems.append(f"{line}行目: 市区町村コード「{code}」の検査数字が一致しません")
            continue
        muni = municipalities.get(code)
        if muni is None:
            problems.append(f"{line}行目: 市区町村コード「{code}」の市区町村がありません")
            continue
        if muni.prefecture_id != pref.pk:
            problems.append(
                f"{line}行目: {muni.name}（{code}）は{pref.name}の市区町村ではありません"
            )
            continue
        if code in seen:
            problems.append(f"{line}行目: {muni.name}（{code}）は{seen[code]}行目にもあります")
            continue
        seen[code] = line
        if name and _bare(name) != _bare(muni.name) and nfkc(name) != f"{pref.name}{muni.name}":
            notes.append(
                f"{line}行目: 市区町村名「{name}」はコード{code}の「{muni.name}」と異なります（コードで登録しました）"
            )
        parsed.append(AreaRow(line, pref, area, muni))
    if problems:
        raise AreaFileRefused(problems)
    if not parsed:
        raise ActionError("取り込む行がありません（見出し行だけです）", field="file")
    return parsed, notes


@transaction.atomic
def import_areas(
    data: bytes, *, by: Membership, request: HttpRequest | None = None
) -> AreaImportResult:
    """Replace the 二次医療圏 of every prefecture in the file (see the module's docstring)."""
    scope = allowed_prefectures(by)
    rows, notes = parse(decode(data))
    outside = sorted(
        {r.prefecture.name for r in rows if scope is not None and r.prefecture.pk not in scope}
    )
    if outside:
        raise Forbidden(f"担当外の都道府県の行があります: {'、'.join(outside)}")
    results = []
    by_pref: dict[int, list[AreaRow]] = {}
    for r in rows:
        by_pref.setdefault(r.prefecture.pk, []).append(r)
    for pref_rows in by_pref.values():
        results.append(_replace(pref_rows))
    from renkei.directory.views import forget_filter_choices

    transaction.on_commit(forget_filter_choices)
    AuditEntry.record(
        "regions.areas_imported",
        request=request,
        membership=by,
        detail={
            "prefectures": [p.prefecture for p in results],
            "areas": sum(len(p.areas) for p in results),
            "municipalities": sum(n for p in results for _, n in p.areas),
            "removed": [a for p in results for a in p.removed],
        },
    )
    return AreaImportResult(results, notes)


def _replace(rows: list[AreaRow]) -> PrefectureResult:
    pref = rows[0].prefecture
    names = list(dict.fromkeys(r.area for r in rows))
    existing = {
        a.name: a for a in SecondaryArea.objects.select_for_update().filter(prefecture=pref)
    }
    result = PrefectureResult(pref.name, [(n, sum(r.area == n for r in rows)) for n in names])
    areas: dict[str, SecondaryArea] = {}
    for i, name in enumerate(names):
        area = existing.pop(name, None)
        if area is None:
            area = SecondaryArea.objects.create(prefecture=pref, name=name, sort_order=i)
            result.created += 1
        elif area.sort_order != i:
            area.sort_order = i
            area.save(update_fields=["sort_order"])
        areas[name] = area
    result.removed = sorted(existing)
    munis = Municipality.objects.filter(prefecture=pref)
    munis.update(secondary_area=None)
    SecondaryArea.objects.filter(pk__in=[a.pk for a in existing.values()]).delete()
    listed = {r.municipality.pk: areas[r.area] for r in rows}
    # A 政令市 brings its wards, unless a ward is listed on its own.
    for r in rows:
        if r.municipality.is_designated_city:
            for ward_id in munis.filter(parent=r.municipality).values_list("pk", flat=True):
                listed.setdefault(ward_id, areas[r.area])
    by_area: dict[int, list[int]] = {}
    for muni_id, area in listed.items():
        by_area.setdefault(area.pk, []).append(muni_id)
    for area_id, ids in by_area.items():
        Municipality.objects.filter(pk__in=ids).update(secondary_area_id=area_id)
    result.unassigned = list(
        munis.filter(secondary_area__isnull=True, is_designated_city=False)
        .order_by("code")
        .values_list("name", flat=True)
    )
    return result


def export_csv(prefecture: Prefecture) -> str:
    """The prefecture's current areas in the import's format (to edit and upload again)."""
    munis = (
        Municipality.objects.filter(prefecture=prefecture, secondary_area__isnull=False)
        .select_related("secondary_area", "parent")
        .order_by("secondary_area__sort_order", "code")
    )
    rows = []
    for m in munis:
        if m.parent_id and m.parent and m.parent.secondary_area_id == m.secondary_area_id:
            continue  # comes with its city
        area = m.secondary_area
        rows.append([prefecture.name, area.name if area else "", m.code, m.name])
    header = ["都道府県", "二次医療圏", "市区町村コード", "市区町村名"]
    return exports.csv_text(exports.Sheet("二次医療圏", header, rows))
