from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from renkei.directory import imports
from renkei.directory.imports import values
from renkei.directory.models import Facility, FacilityService, VacancyStatus
from renkei.lib.geo import cell_of
from renkei.lib.text import normalize_search
from renkei.regions.models import Municipality
from renkei.testing import capabilities

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
OPENDATA = DATA / "opendata"
KAIGO_FILES = [
    "jigyosho_130.csv",
    "jigyosho_320.csv",
    "jigyosho_430.csv",
    "jigyosho_510.csv",
    "jigyosho_520.csv",
]


def kaigo_row(**values: str) -> dict[str, str]:
    """One 介護サービス情報公表 row (a 特養 in 藤沢市 unless overridden)."""
    row = dict.fromkeys(imports.KAIGO_COLUMNS, "")
    row.update(
        {
            "都道府県コード又は市町村コード": "142051",
            "都道府県名": "神奈川県",
            "市区町村名": "藤沢市",
            "事業所名": "ふじさわ特別養護老人ホーム",
            "事業所名カナ": "フジサワトクベツヨウゴロウジンホーム",
            "サービスの種類": "介護老人福祉施設",
            "住所": "藤沢市本町1-1-1",
            "緯度": "35.3389",
            "経度": "139.4911",
            "電話番号": "0466-00-0001",
            "法人の名称": "社会福祉法人ふじさわ会",
            "事業所番号": "1470000001",
            "定員": "80",
            "介護保険の通常の指定基準を満たしている": "○",
        }
    )
    row.update(values)
    row["No"] = row["事業所番号"]
    return row


def kaigo_csv(*rows: dict[str, str], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(imports.KAIGO_COLUMNS)
    for row in rows:
        writer.writerow([row[c] for c in imports.KAIGO_COLUMNS])
    return buf.getvalue().encode(encoding)


def import_sample(name: str, **kwargs: Any) -> imports.ImportResult:
    return imports.import_file(OPENDATA / name, **kwargs)


@pytest.mark.parametrize(
    "name, kind, service",
    [
        ("jigyosho_130.csv", "visiting_nurse", "130"),
        ("jigyosho_320.csv", "group_home", "320"),
        ("jigyosho_430.csv", "care_management", "430"),
        ("jigyosho_510.csv", "tokuyo", "510"),
        ("jigyosho_520.csv", "roken", "520"),
    ],
)
def test_each_service_file_creates_facilities_of_its_kind(
    name: str, kind: str, service: str
) -> None:
    """Every row of a sample file becomes a facility of the file's kind with one service row."""
    result = import_sample(name)
    assert (result.format, result.created, result.rejected) == ("kaigo", 40, 0)
    assert Facility.objects.filter(kind=kind, source="kaigo").count() == 40
    assert set(FacilityService.objects.values_list("service_code", flat=True)) == {service}


def test_second_import_of_the_same_files_changes_nothing() -> None:
    """Importing all sample files again reports every row unchanged and adds no rows."""
    for name in KAIGO_FILES:
        import_sample(name)
    before = list(Facility.objects.order_by("pk").values())
    services = FacilityService.objects.count()
    results = [import_sample(name) for name in KAIGO_FILES]
    assert [(r.created, r.updated, r.unchanged) for r in results] == [(0, 0, 40)] * 5
    assert list(Facility.objects.order_by("pk").values()) == before
    assert FacilityService.objects.count() == services == 200


@pytest.mark.parametrize("order", [("210", "510"), ("510", "210")])
def test_office_in_two_service_files_is_one_facility_with_two_services(
    order: tuple[str, str],
) -> None:
    """The same 事業所番号 in the 特養 and the short-stay file is one 特養 with both services,
    named after its 特養 row, whichever file comes first."""
    files = {
        "510": kaigo_csv(kaigo_row()),
        "210": kaigo_csv(
            kaigo_row(
                **{
                    "サービスの種類": "短期入所生活介護",
                    "事業所名": "ふじさわショートステイ",
                    "定員": "10",
                }
            )
        ),
    }
    outcomes = [
        imports.import_bytes(files[code], filename=f"jigyosho_{code}.csv") for code in order
    ]
    assert [r.created for r in outcomes] == [1, 1]
    facility = Facility.objects.get()
    assert facility.kind == "tokuyo"
    assert facility.name == "ふじさわ特別養護老人ホーム"
    assert facility.capacity == 80
    assert list(facility.services.values_list("service_code", "capacity")) == [
        ("210", 10),
        ("510", 80),
    ]


def test_two_services_of_one_office_in_one_file_share_a_facility() -> None:
    """A combined file may list one office under two services: one facility, two services."""
    data = kaigo_csv(
        kaigo_row(**{"サービスの種類": "訪問介護", "事業所名": "ふじさわヘルパー"}),
        kaigo_row(**{"サービスの種類": "通所介護", "事業所名": "ふじさわデイ"}),
    )
    result = imports.import_bytes(data, filename="combined.csv")
    assert (result.created, result.rejected) == (2, 0)
    facility = Facility.objects.get()
    assert facility.kind == "day_care"  # 通所介護 outranks 訪問介護
    assert facility.name == "ふじさわデイ"
    assert sorted(facility.services.values_list("service_code", flat=True)) == ["110", "150"]


def test_reimport_never_touches_what_the_facility_maintains() -> None:
    """Capabilities, vacancy, conditions, liaison contact, description and service area survive
    a re-import that changes the official name; a phone the facility corrected is kept too."""
    imports.import_bytes(kaigo_csv(kaigo_row()), filename="jigyosho_510.csv")
    f = Facility.objects.get()
    f.set_capabilities(capabilities("suction", "tube-feeding"))
    f.service_municipalities.set(Municipality.objects.filter(code__in=["142051", "142077"]))
    maintained = {
        "vacancy_status": VacancyStatus.AVAILABLE,
        "vacancy_count": 2,
        "vacancy_note": "男性1床",
        "care_level_min": 5,
        "care_level_max": 7,
        "accepts_dementia": True,
        "cost_min": 80000,
        "conditions_note": "胃ろう可",
        "liaison_contact": "相談員 連携太郎 0466-11-2222",
        "description": "駅から徒歩5分",
        "phone": "0466-99-9999",
        "info_updated_at": timezone.now(),
    }
    Facility.objects.filter(pk=f.pk).update(**maintained)

    result = imports.import_bytes(
        kaigo_csv(kaigo_row(**{"事業所名": "ふじさわ特養（改称）", "電話番号": "0466-00-0002"})),
        filename="jigyosho_510.csv",
    )
    assert (result.updated, result.unchanged) == (1, 0)
    f = Facility.objects.get()
    assert f.name == "ふじさわ特養（改称）"
    assert normalize_search("改称") in f.search_text
    assert {k: getattr(f, k) for k in maintained} == maintained
    assert sorted(c.code for c in f.capabilities.all()) == ["suction", "tube-feeding"]
    assert f.capability_mask != 0
    assert sorted(f.service_municipalities.values_list("code", flat=True)) == ["142051", "142077"]
    assert f.version == 2  # an edit form opened before the import sees the change


def test_phone_follows_open_data_until_the_facility_edits_its_profile() -> None:
    """Without a profile edit (info_updated_at empty) the open data's phone number wins."""
    imports.import_bytes(kaigo_csv(kaigo_row()), filename="jigyosho_510.csv")
    imports.import_bytes(
        kaigo_csv(kaigo_row(**{"電話番号": "0466-00-0002"})), filename="jigyosho_510.csv"
    )
    assert Facility.objects.get().phone == "0466-00-0002"


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
def test_shift_jis_and_bom_less_utf8_import_like_the_original(encoding: str) -> None:
    """The sample re-encoded as Shift_JIS (or UTF-8 without BOM) finds every row unchanged."""
    import_sample("jigyosho_130.csv")
    text = (OPENDATA / "jigyosho_130.csv").read_text("utf-8-sig")
    result = imports.import_bytes(text.encode(encoding), filename="jigyosho_130.csv")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 40)
    assert Facility.objects.filter(hours="月〜土").exists()


def test_shift_jis_file_alone_gives_the_same_facilities() -> None:
    """A Shift_JIS copy imported into an empty directory stores the same text as the UTF-8 file."""
    text = (OPENDATA / "jigyosho_320.csv").read_text("utf-8-sig")
    imports.import_bytes(text.encode("cp932"), filename="jigyosho_320.csv")
    sjis = list(
        Facility.objects.order_by("care_office_number").values_list(
            "name", "kana", "address", "hours"
        )
    )
    Facility.objects.all().delete()
    import_sample("jigyosho_320.csv")
    utf8 = list(
        Facility.objects.order_by("care_office_number").values_list(
            "name", "kana", "address", "hours"
        )
    )
    assert sjis == utf8


def test_row_without_coordinates_gets_the_municipality_point_and_a_note() -> None:
    """Line 8 of the 訪問看護 sample has no coordinates: the 南足柄市 point, reported as a note."""
    result = import_sample("jigyosho_130.csv")
    f = Facility.objects.get(care_office_number="1436201389")
    muni = Municipality.objects.get(code="142174")
    point = muni.point()
    assert point is not None and (f.lat, f.lng) == point
    assert f.geo_cell == cell_of(*point)
    [note] = [r for r in result.reports if r.key == "1436201389"]
    assert (note.line, note.level) == (8, imports.NOTE)
    assert "市区町村の代表点" in note.reason


def test_existing_position_is_kept_when_the_new_row_has_none() -> None:
    """A later file without coordinates does not move a facility that has a position."""
    imports.import_bytes(kaigo_csv(kaigo_row()), filename="jigyosho_510.csv")
    result = imports.import_bytes(
        kaigo_csv(kaigo_row(**{"緯度": "", "経度": ""})), filename="jigyosho_510.csv"
    )
    assert result.unchanged == 1
    assert (Facility.objects.get().lat, Facility.objects.get().lng) == (35.3389, 139.4911)


def test_official_quirks_are_normalised() -> None:
    """定員 「0」 is stored as 0 (issue 9 §6; blank stays empty), the URL column keeps only web
    addresses, and a prefecture in front of the address is dropped."""
    import_sample("jigyosho_130.csv")
    import_sample("jigyosho_510.csv")
    nurse = Facility.objects.get(care_office_number="1492827700")  # 定員 "0", https URL
    assert nurse.capacity == 0
    assert nurse.website == "https://カエデ-care.example.jp/"
    assert Facility.objects.get(care_office_number="1468578867").address == "座間市本町5-9-19"
    assert Facility.objects.get(care_office_number="1466958013").website == ""  # an e-mail
    assert Facility.objects.get(care_office_number="1448048079").website == ""  # a phone number
    tokuyo = Facility.objects.get(care_office_number="1464768589")
    assert tokuyo.capacity == 80
    assert tokuyo.services.get().capacity == 80


def test_source_date_and_derived_fields_are_set() -> None:
    """source/source_date come from the import; search_text and geo_cell match refresh_derived."""
    import_sample("jigyosho_320.csv", source_date=dt.date(2026, 6, 30))
    for f in Facility.objects.all():
        assert (f.source, f.source_date) == ("kaigo", dt.date(2026, 6, 30))
        expected = Facility(
            name=f.name, kana=f.kana, corporation_name=f.corporation_name, lat=f.lat, lng=f.lng
        )
        expected.refresh_derived()
        assert (f.search_text, f.geo_cell) == (expected.search_text, expected.geo_cell)
    assert Facility.objects.filter(search_text__contains=normalize_search("ｽｽﾞﾗﾝ")).exists()


def test_scope_imports_only_the_curated_municipalities() -> None:
    """With a scope, rows of other municipalities are skipped and counted, not reported."""
    yokohama = set(
        Municipality.objects.filter(code__startswith="1410").values_list("id", flat=True)
    )
    result = import_sample("jigyosho_430.csv", scope=yokohama)
    assert result.created == Facility.objects.count() == 1
    assert Facility.objects.get().municipality.code == "141003"
    assert (result.skipped, result.reports) == (39, [])


def test_command_prints_summary_and_fails_on_a_refused_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """import_opendata prints counts and line-numbered notes, and exits non-zero when a file
    is refused while still importing the good files."""
    out = io.StringIO()
    with pytest.raises(CommandError, match="1件のファイルを取り込めませんでした"):
        call_command(
            "import_opendata",
            str(DATA / "bad" / "empty.csv"),
            str(OPENDATA / "jigyosho_130.csv"),
            "--source-date",
            "2026-06-30",
            stdout=out,
            stderr=out,
        )
    text = out.getvalue()
    assert "新規 40" in text
    assert "8行目 [注意] 1436201389" in text
    assert "empty.csv: 取込不可 — ファイルが空です" in text
    assert Facility.objects.filter(source_date=dt.date(2026, 6, 30)).count() == 40


def test_changes_spread_over_many_batches_are_all_written() -> None:
    """A re-import whose every row changes, in batches of 7, updates all 40 facilities."""
    import_sample("jigyosho_130.csv")
    text = (OPENDATA / "jigyosho_130.csv").read_text("utf-8-sig").replace('"046-', '"0466-')
    result = imports.import_bytes(text.encode("utf-8"), filename="jigyosho_130.csv", batch_size=7)
    assert (result.updated, result.unchanged) == (40, 0)
    assert not Facility.objects.filter(phone__startswith="046-").exists()
    assert set(Facility.objects.values_list("version", flat=True)) == {2}


@pytest.mark.parametrize(
    "value",
    [
        "https://www.example.jp/",
        "http://example.jp:8080/a?b=c#d",
        "https://アオバ-6.example.jp/",
        "https://例え.テスト/パス",
        "https://日本語.jp",
        "https://bad host.jp/",
        "https://-bad-.example.jp/",
        "https://.jp/",
        "https://アオバ..jp/",
        "https://ア" + "イ" * 70 + ".jp/",
        "http://localhost/",
        "https://192.0.2.1/",
        "mailto:info@example.jp",
        "info@example.jp",
        "0466-00-0000",
        "",
    ],
)
def test_url_cells_are_kept_exactly_when_urlvalidator_accepts_them(value: str) -> None:
    """The importer's fast paths for the URL column (ASCII and Japanese domain names) agree
    with Django's URLValidator (http and https only)."""
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    try:
        URLValidator(schemes=["http", "https"])(value)
        valid = True
    except ValidationError:
        valid = False
    assert values._url(value) == (value if valid else "")


def test_url_fast_path_agrees_with_urlvalidator_on_random_strings() -> None:
    """Thousands of generated URL-like strings: the importer keeps exactly those that
    URLValidator accepts."""
    import random

    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    validator = URLValidator(schemes=["http", "https"])
    rng = random.Random(5)
    parts = ["a", "Z", "0", "-", ".", "あ", "ア", "例", "é", ":", "@", "/", "?", "#", " ", "_", "x"]
    kept = 0
    for _ in range(4000):
        host = "".join(rng.choice(parts[:10]) for _ in range(rng.randint(1, 14)))
        tail = "".join(rng.choice(parts) for _ in range(rng.randint(0, 6)))
        value = (
            rng.choice(["http://", "https://", "HTTPS://"])
            + host
            + rng.choice([".jp", ".example.jp", "", ".co.jp:8080", ".xn--wgv71a"])
            + rng.choice(["", "/", "/" + tail, "?" + tail])
        ).strip()  # as the importer reads cells
        try:
            validator(value)
            valid = True
        except ValidationError:
            valid = False
        assert values._url(value) == (value if valid else ""), value
        kept += valid
    assert 400 < kept < 3600  # both outcomes are exercised


def test_full_width_phone_and_fax_are_normalised_not_dropped() -> None:
    """35 of 300 rows of a real 介護 file wrote their numbers in full width (issue 9 §6)."""
    row = kaigo_row(
        **{"電話番号": "０４６－２８８－１１４８", "FAX番号": "（０４６）２８８ー１１４９"}
    )
    imports.import_bytes(kaigo_csv(row), filename="jigyosho_510.csv")
    f = Facility.objects.get()
    assert (f.phone, f.fax) == ("046-288-1148", "(046)288-1149")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("０４６６－２２－１１１１", ("0466-22-1111", True)),
        ("0466‐22‐1111", ("0466-22-1111", True)),  # U+2010 hyphens
        ("０４６６−２２−１１１１", ("0466-22-1111", True)),  # U+2212 minus
        ("", ("", True)),
        ("電話なし", ("", False)),
    ],
)
def test_phone_values(raw: str, expected: tuple[str, bool]) -> None:
    assert values._phone(raw) == expected


def test_capacity_zero_is_zero_and_blank_is_unknown() -> None:
    assert values._count("0") == (0, True)
    assert values._count("０") == (0, True)
    assert values._count("") == (None, True)
    assert values._count("八十") == (None, False)


def test_a_facility_typed_in_full_width_validates_and_is_stored_in_ascii() -> None:
    from renkei.testing import make_facility

    f = make_facility("全角入力の事業所")
    f.phone, f.fax, f.postal_code = (
        "０４６６－２２－１１１１",
        "０４６６ー２２ー１１１２",
        "２５１－００５２",
    )
    f.full_clean()
    assert (f.phone, f.fax, f.postal_code) == ("0466-22-1111", "0466-22-1112", "251-0052")
