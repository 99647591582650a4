from __future__ import annotations

import pytest

from renkei.referrals.screening import IdentifyingText, find_identifiers, screen


@pytest.mark.parametrize(
    "text, kind",
    [
        ("山田太郎さんは独居で、", "氏名"),
        ("鈴木花子様のご家族より相談", "氏名"),
        ("ヤマダ様は胃ろう造設済み", "氏名"),
        ("担当は佐藤氏", "氏名"),
        ("氏名：山田", "氏名"),
        ("患者名: 田中", "氏名"),
        ("長女の田中恵子さんがキーパーソン", "氏名"),
        ("連絡先 0466-12-3456", "電話番号"),
        ("携帯090-1234-5678まで", "電話番号"),
        ("０４６６（１２）３４５６", "電話番号"),
        ("(0466)12-3456", "電話番号"),
        ("09012345678", "電話番号"),
        ("TEL:046612", "電話番号"),
        ("昭和12年3月4日生", "生年月日"),
        ("S12.3.4生まれ", "生年月日"),
        ("S12.3.4", "生年月日"),
        ("1937/3/4", "生年月日"),
        ("1937年3月4日", "生年月日"),
        ("平成元年4月1日生", "生年月日"),
        ("生年月日は本人確認済み", "生年月日"),
        ("藤沢市鵠沼海岸1-2-3在住", "住所"),
        ("茅ヶ崎市本町2-5", "住所"),
        ("本町二丁目のアパート", "住所"),
        ("1丁目5番地", "住所"),
        ("3番12号", "住所"),
        ("〒251-0052", "郵便番号"),
        ("住所：藤沢市", "住所"),
        ("被保険者番号 1234567890", "保険者番号等"),
        ("1234567890", "被保険者番号等の番号"),
        ("マイナンバー取得済", "保険者番号等"),
        ("患者 山田花子", "氏名"),
        ("患者 山田花子 は独居", "氏名"),
        ("担当医 佐藤一郎 先生", "氏名"),
        ("担当医: 鈴木", "氏名"),
        ("長女 田中 恵子", "氏名"),
        ("山田 花子", "氏名"),
        ("鈴木医師より説明", "氏名"),
        ("連絡は taro.yamada@example.jp まで", "メールアドレス"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "メールアドレス"),
    ],
)
def test_identifying_text_is_found_and_named(text: str, kind: str) -> None:
    """Names, phone numbers, birth dates, addresses and insurance numbers are each reported by kind."""
    kinds = [f.kind for f in find_identifiers(text)]
    assert kind in kinds, (text, kinds)


@pytest.mark.parametrize(
    "text",
    [
        "要介護3",
        "要支援2から区分変更申請中",
        "ADL全介助、食事は一部介助",
        "2週間後に退院予定",
        "頓用で1-2錠",
        "一般市販薬1-2錠",
        "R6.4.1認定",
        "H30.5.1に脳梗塞発症",
        "2025/4/1退院予定",
        "HDS-R 15点、MMSE 18点",
        "SpO2 95%、O2 2L",
        "BMI 18.5、Alb 2.8 g/dl",
        "JCS I-1",
        "1日3回の吸引",
        "訪問看護週3回",
        "80代女性",
        "体重45kg",
        "奥様がキーパーソン",
        "長女様と面談済み",
        "ご本人様の意向を確認",
        "ご主人様は施設入所中",
        "担当ケアマネさんに確認中",
        "息子さん同居",
        "主治医の先生から説明",
        "湘南病院さんから転院",
        "A病院様より紹介",
        "患者様は夜間不穏あり",
        "看護師さんの見守りが必要",
        "藤沢市内を希望",
        "介護福祉士さんの評価",
        "患者 状態安定",
        "担当医 確認済み",
        "主治医 先生に確認",
        "看護師 夜間巡回",
        "患者 様子観察",
        "本人 希望あり",
        "担当医 より説明",
        "医師 指示あり",
        "院長先生と相談",
        "石川県立病院から転院",
        "中村 区の施設を希望",
        "山口 県外も可",
        "家族 面会は週1回",
        "訪問診療医 往診可",
        "",
    ],
)
def test_clinical_shorthand_passes(text: str) -> None:
    """Everyday discharge-note wording is not mistaken for identifying information."""
    assert find_identifiers(text) == []
    assert screen(text) == text


def test_message_names_what_was_found() -> None:
    """The refusal says in Japanese which kinds of data were found, quoting them."""
    with pytest.raises(IdentifyingText) as exc:
        screen("山田太郎さん 0466-12-3456 昭和12年3月4日生")
    message = str(exc.value)
    assert "氏名（「山田太郎さん」）" in message
    assert "電話番号（「0466-12-3456」）" in message
    assert "生年月日" in message
    assert "削除" in message


def test_phone_number_is_not_also_reported_as_a_date() -> None:
    """A phone number whose digits look like a date is reported once, as a phone number."""
    assert [f.kind for f in find_identifiers("0466-12-3456")] == ["電話番号"]
