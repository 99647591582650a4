from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from renkei.directory import imports
from renkei.directory.models import Facility, Specialty
from renkei.regions.models import Municipality

pytestmark = pytest.mark.django_db

OPENDATA = Path(__file__).parent / "data" / "opendata"
HOSPITALS = OPENDATA / "01-1_hospital_facility_info.csv"
CLINICS = OPENDATA / "02-1_clinic_facility_info.csv"
HOSPITAL_HOURS = OPENDATA / "01-2_hospital_speciality_hours.csv"
CLINIC_HOURS = OPENDATA / "02-2_clinic_speciality_hours.csv"


def rewrite(path: Path, name: str, change: dict[str, str], *, line: int = 2) -> tuple[bytes, str]:
    """The sample with some cells of one data line changed, and its file name."""
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))
    header = rows[0]
    for column, value in change.items():
        rows[line - 1][header.index(column)] = value
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("utf-8-sig"), name


def test_hospitals_and_clinics_get_their_kind_beds_and_municipality() -> None:
    """機関区分 1/2 give hospital/clinic; 合計病床数 gives beds; 14 + 401 is 愛川町 (144011)."""
    h = imports.import_file(HOSPITALS)
    c = imports.import_file(CLINICS)
    assert (h.format, h.created, c.created, h.rejected + c.rejected) == (
        "iryou-facility",
        15,
        50,
        0,
    )
    hospital = Facility.objects.get(medical_id="1414013915201")
    assert (hospital.kind, hospital.beds, hospital.source) == ("hospital", 360, "iryou")
    assert hospital.municipality.code == "144011"
    assert (hospital.short_name, hospital.lat, hospital.lng) == ("さくら病院", 35.555205, 139.31218)
    assert Facility.objects.filter(kind="clinic").count() == 50
    assert set(Facility.objects.filter(kind="clinic").values_list("beds", flat=True)) == {None}


def test_closed_day_flags_become_text() -> None:
    """Flags are 1 = open, 0 = closed: weekly closures, closures in given weeks, holidays and
    the free-text days; closed in all five weeks reads as closed every week."""
    imports.import_file(HOSPITALS)
    assert Facility.objects.get(medical_id="1414013915201").closed_days == "日曜、祝日"
    data, name = rewrite(
        HOSPITALS,
        "01-1_hospital_facility_info.csv",
        {
            "毎週決まった曜日に休診（日）": "1",
            "祝日に休診": "1",
            "決まった週に休診（定期週）第2週（土）": "0",
            "決まった週に休診（定期週）第4週（土）": "0",
            "その他の休診日（gw、お盆等）": "12/29~1/3",
        },
    )
    result = imports.import_bytes(data, filename=name)
    assert result.updated == 1
    assert (
        Facility.objects.get(medical_id="1414013915201").closed_days
        == "日曜、第2・4土曜、12/29~1/3"
    )


def test_zero_coordinates_mean_missing() -> None:
    """ "0.0" coordinates fall back to the municipality's point and are reported as a note."""
    result = imports.import_file(CLINICS)
    notes = [r for r in result.reports if r.level == imports.NOTE]
    assert [r.line for r in notes] == [10, 19, 27, 31, 43]
    clinic = Facility.objects.get(medical_id=notes[0].key)
    assert (clinic.lat, clinic.lng) == clinic.municipality.point()
    assert clinic.lat != 0


def test_kind_comes_from_the_file_name_when_the_column_is_blank() -> None:
    """A 歯科 施設票 (03-1) without 機関区分 imports as dental clinics."""
    data, _ = rewrite(CLINICS, "", {"機関区分": ""})
    imports.import_bytes(data, filename="03-1_dental_facility_info_20260601.csv")
    f = Facility.objects.get(medical_id="1424011532316")
    assert f.kind == "dental"
    assert f.source_date == dt.date(2026, 6, 1)  # from the file name


def test_iryou_import_keeps_fields_it_does_not_carry() -> None:
    """医療情報ネット has no phone number: a phone entered by hand survives a re-import."""
    imports.import_file(HOSPITALS)
    Facility.objects.filter(medical_id="1414013915201").update(phone="046-000-1111")
    result = imports.import_file(HOSPITALS)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 15)
    assert Facility.objects.get(medical_id="1414013915201").phone == "046-000-1111"


def test_hours_become_specialties_keyed_by_facility_and_code() -> None:
    """Each (ID, 診療科目コード) is one Specialty whose hours hold each day's time bands."""
    imports.import_file(HOSPITALS)
    result = imports.import_file(HOSPITAL_HOURS)
    assert (result.format, result.created, result.rejected) == ("iryou-hours", 30, 0)
    s = Specialty.objects.get(facility__medical_id="1414013915201", code="01028")
    assert s.name == "老年内科"
    assert s.hours["mon"] == [
        {
            "band": 1,
            "start": "09:00",
            "end": "12:30",
            "reception_start": "08:45",
            "reception_end": "12:00",
        }
    ]
    assert set(s.hours) == {"mon", "tue", "wed", "thu", "fri", "sat"}
    again = imports.import_file(HOSPITAL_HOURS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 30)
    data, name = rewrite(
        HOSPITAL_HOURS, "01-2_hospital_speciality_hours.csv", {"月_診療終了時間": "13:00"}
    )
    changed = imports.import_bytes(data, filename=name)
    assert (changed.updated, changed.unchanged) == (1, 29)
    first = Specialty.objects.get(facility__medical_id="1414013915201", code="01028")
    assert first.hours["mon"][0]["end"] == "13:00"


def test_time_bands_of_one_speciality_merge_even_across_batches() -> None:
    """Band 2 of a speciality adds an afternoon entry to the same Specialty, also when another
    facility's row separates it from band 1 and the rows land in different batches."""
    imports.import_file(HOSPITALS)
    rows = list(csv.reader(io.StringIO(HOSPITAL_HOURS.read_text("utf-8-sig"))))
    header, first = rows[0], rows[1]
    other = next(r for r in rows[1:] if r[0] != first[0])
    afternoon = [v if i < 4 else "" for i, v in enumerate(first)]
    afternoon[header.index("診療時間帯")] = "2"
    afternoon[header.index("月_診療開始時間")] = "14:00"
    afternoon[header.index("月_診療終了時間")] = "17:00"
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL).writerows([header, first, other, afternoon])
    result = imports.import_bytes(buf.getvalue().encode(), filename="hours.csv", batch_size=1)
    assert (result.created, result.updated, result.rejected) == (2, 1, 0)
    s = Specialty.objects.get(facility__medical_id=first[0], code=first[1])
    assert [(e["band"], e["start"], e["end"]) for e in s.hours["mon"]] == [
        (1, "09:00", "12:30"),
        (2, "14:00", "17:00"),
    ]
    assert [e["band"] for e in s.hours["tue"]] == [1]


def test_hours_for_unknown_facilities_are_rejected_with_line_numbers() -> None:
    """Without the 施設票, every hours row is rejected with its line and a reason."""
    result = imports.import_file(CLINIC_HOURS)
    assert (result.created, result.rejected) == (0, 100)
    assert [r.line for r in result.reports[:3]] == [2, 3, 4]
    assert (
        "医療機関が登録されていません（先に施設票を取り込んでください）" in result.reports[0].reason
    )
    assert not Specialty.objects.exists()


def test_scope_skips_hours_of_facilities_elsewhere() -> None:
    """A scoped import leaves specialities of facilities outside the area alone."""
    imports.import_file(CLINICS)
    aikawa = {Municipality.objects.get(code="144011").pk}
    result = imports.import_file(CLINIC_HOURS, scope=aikawa)
    in_area = Specialty.objects.filter(facility__municipality__code="144011").count()
    assert in_area > 0
    assert Specialty.objects.count() == in_area
    assert result.created + result.skipped == 100
