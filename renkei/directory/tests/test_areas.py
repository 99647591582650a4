"""二次医療圏 from an administrator's CSV (renkei.directory.areas, ADR 0041): a prefecture's areas
are replaced by the file's, any bad row refuses the whole file and changes nothing, and only
prefecture staff (their own prefecture) and the 運営事務局 may upload."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, OrgKind, Role
from renkei.directory.search import FacilitySearch
from renkei.regions.models import Municipality, SecondaryArea
from renkei.testing import make_facility, make_member, make_org, sign_in

pytestmark = pytest.mark.django_db
URL = "/directory/imports/areas/"
MIYAGI = (
    "都道府県,二次医療圏,市区町村コード,市区町村名\r\n"
    "宮城県,仙南,042064,白石市\r\n"
    "宮城県,仙南,04301,刈田郡蔵王町\r\n"  # 5 digits: the check digit is added
    "宮城県,仙台,041009,仙台市\r\n"
    "宮城県,仙台,042072,名取市\r\n"
    "宮城県,大崎・栗原,042153,大崎市\r\n"
)


def signed_in(kind: str, role: str, **org: Any) -> Client:
    client = Client()
    member = make_member(make_org(f"{kind}の組織", kind, **org), role)
    sign_in(client, member.user)
    return client


def operator() -> Client:
    return signed_in(OrgKind.OPERATOR, Role.ADMIN, prefecture_code="13")


def upload(client: Client, text: str, encoding: str = "utf-8-sig") -> Any:
    f = SimpleUploadedFile("areas.csv", text.encode(encoding), content_type="text/csv")
    return client.post(URL, {"file": f})


def area_of(code: str) -> str | None:
    m = Municipality.objects.select_related("secondary_area").get(code=code)
    return m.secondary_area.name if m.secondary_area else None


def test_operator_uploads_a_prefectures_areas_and_the_search_uses_them() -> None:
    r = upload(operator(), MIYAGI)
    assert r.status_code == 200, r.content.decode()[:2000]
    page = r.content.decode()
    assert "登録しました" in page and "宮城県: 3圏域（新規3）" in page
    assert [a.name for a in SecondaryArea.objects.filter(prefecture__code="04")] == [
        "仙南",
        "仙台",
        "大崎・栗原",
    ]
    assert area_of("042064") == area_of("043010") == "仙南"
    assert area_of("041017") == "仙台"  # 青葉区 comes with 仙台市
    assert area_of("042021") is None and "石巻市" in page  # not listed: reported
    entry = AuditEntry.objects.get(action="regions.areas_imported")
    assert entry.detail["prefectures"] == ["宮城県"] and entry.detail["municipalities"] == 5
    # The directory search by area finds a facility in a listed town.
    make_facility("白石の施設", municipality_code="042064", lat=38.0, lng=140.62)
    make_facility("石巻の施設", municipality_code="042021", lat=38.43, lng=141.3)
    area = SecondaryArea.objects.get(name="仙南")
    items, _ = FacilitySearch.from_querydict(QueryDict(f"area={area.pk}")).results()
    assert [f.name for f in items] == ["白石の施設"]


def test_a_second_upload_keeps_areas_by_name_and_removes_the_rest() -> None:
    client = operator()
    assert upload(client, MIYAGI).status_code == 200
    sendai = SecondaryArea.objects.get(name="仙台")
    again = (
        "都道府県,二次医療圏,市区町村コード\n"
        "宮城県,仙台,041009\n"
        "宮城県,仙台,042064\n"  # 白石市 moves
        "宮城県,石巻・登米・気仙沼,042021\n"
    )
    r = upload(client, again)
    assert r.status_code == 200
    assert "削除した圏域: 仙南、大崎・栗原" in r.content.decode()
    assert SecondaryArea.objects.get(name="仙台").pk == sendai.pk  # saved searches still work
    assert not SecondaryArea.objects.filter(name="仙南").exists()
    assert area_of("042064") == "仙台" and area_of("042021") == "石巻・登米・気仙沼"
    assert area_of("042072") is None  # 名取市 is no longer listed
    # Kanagawa is not in the file and is untouched.
    assert SecondaryArea.objects.filter(prefecture__code="14").count() == 9


def test_shift_jis_files_are_read() -> None:
    assert upload(operator(), MIYAGI, encoding="cp932").status_code == 200
    assert area_of("042153") == "大崎・栗原"


@pytest.mark.parametrize(
    "row, message",
    [
        ("宮域県,仙台,042072,名取市", "3行目: 都道府県「宮域県」がわかりません"),
        ("宮城県,,042072,名取市", "3行目: 二次医療圏の名前が空です"),
        ("宮城県,仙台,042073,名取市", "3行目: 市区町村コード「042073」の検査数字が一致しません"),
        ("宮城県,仙台,42-07,名取市", "3行目: 市区町村コード「42-07」は6桁"),
        ("宮城県,仙台,142051,藤沢市", "3行目: 藤沢市（142051）は宮城県の市区町村ではありません"),
        ("宮城県,仙台,041009,仙台市", "3行目: 仙台市（041009）は2行目にもあります"),
        ("宮城県,仙台,999997,", "3行目: 市区町村コード「999997」の市区町村がありません"),
    ],
)
def test_a_bad_row_refuses_the_file_and_changes_nothing(row: str, message: str) -> None:
    before = list(SecondaryArea.objects.values_list("pk", "name"))
    text = f"都道府県,二次医療圏,市区町村コード,市区町村名\n宮城県,仙台,041009,仙台市\n{row}\n"
    r = upload(operator(), text)
    assert r.status_code == 400
    page = r.content.decode()
    assert message in page and "何も変更していません" in page
    assert list(SecondaryArea.objects.values_list("pk", "name")) == before
    assert area_of("041009") is None
    assert not AuditEntry.objects.filter(action="regions.areas_imported").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "空です"),
        (
            "名前,コード\nx,y\n".encode(),
            "「都道府県」「二次医療圏」「市区町村コード」の列がありません",
        ),
        ("都道府県,二次医療圏,市区町村コード\n".encode(), "取り込む行がありません"),
        (b"\xff\xfe\x00\x81\x00", "文字コードを判別できません"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(content: bytes, message: str) -> None:
    f = SimpleUploadedFile("areas.csv", content, content_type="text/csv")
    r = operator().post(URL, {"file": f})
    assert r.status_code == 400 and message in r.content.decode()


def test_no_file_is_a_form_error() -> None:
    r = operator().post(URL, {})
    assert r.status_code == 400 and "errorlist" in r.content.decode()


def test_prefecture_staff_may_replace_their_own_prefecture_only() -> None:
    client = signed_in(OrgKind.PREFECTURE, Role.PREFECTURAL_OFFICER, prefecture_code="04")
    page = client.get(URL).content.decode()
    assert "宮城県" in page and "神奈川県" not in page
    assert upload(client, MIYAGI).status_code == 200
    other = "都道府県,二次医療圏,市区町村コード\n神奈川県,湘南東部,142051\n"
    before = area_of("142051")
    r = upload(client, other)
    assert r.status_code == 403 and "担当外の都道府県の行があります: 神奈川県" in r.content.decode()
    assert area_of("142051") == before
    assert client.get(URL, {"download": "14"}).status_code == 404


@pytest.mark.parametrize(
    "kind, role",
    [
        (OrgKind.HOSPITAL, Role.MSW),
        (OrgKind.MUNICIPALITY, Role.MUNICIPAL_OFFICER),
    ],
)
def test_other_organisations_do_not_see_the_page(kind: str, role: str) -> None:
    client = signed_in(kind, role, municipality_code="142051")
    assert client.get(URL).status_code == 404
    assert upload(client, MIYAGI).status_code == 404
    assert area_of("042064") is None


def test_anonymous_is_sent_to_sign_in() -> None:
    r = upload(Client(), MIYAGI)
    assert r.status_code == 302 and reverse("accounts:login") in r["Location"]
    assert area_of("042064") is None


def test_the_download_uploads_back_to_the_same_areas() -> None:
    """Kanagawa's shipped areas, downloaded and uploaded unchanged, stay as they are
    (川崎市's wards listed one by one, 横浜市 as one row with its wards)."""
    client = operator()
    before = dict(
        Municipality.objects.filter(prefecture__code="14").values_list(
            "code", "secondary_area__name"
        )
    )
    text = client.get(URL, {"download": "14"}).content.decode("utf-8-sig")
    assert "神奈川県,横浜,141003,横浜市" in text and "141011" not in text
    assert "神奈川県,川崎北部,141348,川崎市高津区" in text
    r = upload(client, text)
    assert r.status_code == 200, r.content.decode()[:3000]
    after = dict(
        Municipality.objects.filter(prefecture__code="14").values_list(
            "code", "secondary_area__name"
        )
    )
    assert after == before
