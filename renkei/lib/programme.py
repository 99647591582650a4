"""The national programme's vocabulary, shared by every record a municipality reports on.

在宅医療・介護連携推進事業 (介護保険法 地域支援事業) items (ア)–(ク), and the four scenes of the
2020 guide (手引き Ver.3). Consultations, events and later indicators must use the same codes so
that one municipality's yearly report can count across them.
"""

from __future__ import annotations

from django.db import models


class ProgrammeItem(models.TextChoices):
    """The national programme's items (ア)–(ク)."""

    A = "a", "（ア）地域の医療・介護の資源の把握"
    I = "i", "（イ）課題の抽出と対応策の検討"  # noqa: E741 - the item is called イ
    U = "u", "（ウ）切れ目のない提供体制の構築推進"
    E = "e", "（エ）医療・介護関係者の情報共有の支援"
    O = "o", "（オ）在宅医療・介護連携に関する相談支援"  # noqa: E741 - the item is called オ
    KA = "ka", "（カ）医療・介護関係者の研修"
    KI = "ki", "（キ）地域住民への普及啓発"
    KU = "ku", "（ク）関係市区町村の連携"


class Scene(models.TextChoices):
    """The four scenes, plus a bucket for what fits none of them."""

    DISCHARGE = "discharge", "入退院支援"
    DAILY = "daily", "日常の療養支援"
    EMERGENCY = "emergency", "急変時の対応"
    END_OF_LIFE = "end_of_life", "看取り"
    OTHER = "other", "その他（場面に当てはまらない）"
