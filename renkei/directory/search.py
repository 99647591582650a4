"""Facility search shared by the HTML views, the JSON API, exports and the HSDS feed."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Count, ExpressionWrapper, F, FloatField, Q, Value, Window
from django.http import QueryDict

from renkei.directory.models import Capability, Facility, FacilityKind, VacancyStatus
from renkei.lib.geo import KM_PER_DEG_LAT, cells_covering, lng_scale
from renkei.lib.text import normalize_search
from renkei.regions.models import Municipality, SecondaryArea

MAX_RADIUS_KM = 200.0
MAX_PER_PAGE = 100
SORTS = {"distance": "距離が近い順", "name": "名称順", "fresh": "更新が新しい順"}


class SearchError(ValueError):
    """A malformed search; the message is shown to the user as is."""


@dataclass
class FacilitySearch:
    q: str = ""
    kinds: list[str] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)
    municipalities: list[str] = field(default_factory=list)
    area: int | None = None
    vacancy: bool = False
    serves: str = ""
    lat: float | None = None
    lng: float | None = None
    postal: str = ""
    near: str = ""
    radius_km: float | None = None
    sort: str = ""
    page: int = 1
    per_page: int = 20

    # Resolved during validation.
    point: tuple[float, float] | None = None
    point_label: str = ""
    serves_municipality: Municipality | None = None
    capability_mask: int = 0
    # The whole vocabulary (at most 63 rows), read once for validation and the page.
    _vocabulary: dict[int, Capability] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def from_querydict(cls, data: QueryDict) -> FacilitySearch:
        def one(name: str) -> str:
            return (data.get(name) or "").strip()

        def many(name: str) -> list[str]:
            values: list[str] = []
            for v in data.getlist(name):
                values.extend(p.strip() for p in v.split(",") if p.strip())
            return values

        def num(name: str, label: str) -> float | None:
            raw = one(name)
            if not raw:
                return None
            try:
                value = float(raw)
            except ValueError:
                raise SearchError(f"{label}は数値で指定してください（{raw}）") from None
            if not math.isfinite(value):
                raise SearchError(f"{label}は数値で指定してください（{raw}）")
            return value

        def integer(name: str, label: str, default: int) -> int:
            raw = one(name)
            if not raw:
                return default
            if not raw.isdigit():
                raise SearchError(f"{label}は1以上の整数で指定してください（{raw}）")
            return int(raw)

        area_raw = one("area")
        if area_raw and not area_raw.isdigit():
            raise SearchError(f"二次医療圏の指定が正しくありません（{area_raw}）")
        search = cls(
            q=one("q")[:100],
            kinds=many("kind"),
            capabilities=many("capability"),
            municipalities=many("municipality"),
            area=int(area_raw) if area_raw else None,
            vacancy=one("vacancy") in ("1", "true", "on", "yes"),
            serves=one("serves"),
            lat=num("lat", "緯度"),
            lng=num("lng", "経度"),
            postal=one("postal"),
            near=one("near"),
            radius_km=num("radius_km", "半径"),
            sort=one("sort"),
            page=integer("page", "ページ", 1),
            per_page=integer("per_page", "1ページの件数", 20),
        )
        search.validate()
        return search

    def validate(self) -> None:
        valid_kinds = set(FacilityKind.values)
        bad = [k for k in self.kinds if k not in valid_kinds]
        if bad:
            raise SearchError(f"施設の種別が正しくありません: {', '.join(bad)}")
        if self.capabilities:
            wanted = set(self.capabilities)
            known = {c.code: c.bit for c in self.vocabulary().values() if c.code in wanted}
            unknown = [c for c in self.capabilities if c not in known]
            if unknown:
                raise SearchError(f"処置項目が見つかりません: {', '.join(unknown)}")
            self.capability_mask = 0
            for bit in known.values():
                self.capability_mask |= 1 << bit
        for code in self.municipalities:
            if not re.fullmatch(r"\d{6}", code):
                raise SearchError(f"市区町村コードは6桁の数字です（{code}）")
        if self.area is not None and not SecondaryArea.objects.filter(pk=self.area).exists():
            raise SearchError("指定された二次医療圏が見つかりません")
        if self.page < 1:
            raise SearchError("ページは1以上で指定してください")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise SearchError(f"1ページの件数は1〜{MAX_PER_PAGE}で指定してください")
        if self.sort and self.sort not in SORTS:
            raise SearchError(f"並び順が正しくありません（{self.sort}）")
        if self.radius_km is not None and not 0 < self.radius_km <= MAX_RADIUS_KM:
            raise SearchError(f"半径は0より大きく{int(MAX_RADIUS_KM)}km以下で指定してください")
        self._resolve_point()
        if self.radius_km is not None and self.point is None:
            raise SearchError(
                "半径で絞り込むには、地点（緯度経度・郵便番号・基準施設）を指定してください"
            )
        if self.sort == "distance" and self.point is None:
            raise SearchError("距離順に並べるには、地点を指定してください")
        if self.serves:
            self.serves_municipality = resolve_place(self.serves)
            if self.serves_municipality is None:
                raise SearchError(
                    f"「{self.serves}」から市区町村を特定できませんでした。郵便番号または市区町村名から入力してください"
                )

    def _resolve_point(self) -> None:
        if (self.lat is None) != (self.lng is None):
            raise SearchError("緯度と経度は両方指定してください")
        if self.lat is not None and self.lng is not None:
            if not (20 <= self.lat <= 46 and 122 <= self.lng <= 154):
                raise SearchError("緯度経度が日本の範囲外です")
            self.point, self.point_label = (self.lat, self.lng), "指定した地点"
        elif self.postal:
            muni = municipality_for_postal(self.postal)
            point = muni.point() if muni else None
            if point is None:
                raise SearchError(f"郵便番号「{self.postal}」の地点がわかりませんでした")
            self.point, self.point_label = point, f"〒{self.postal}（{muni}）"
        elif self.near:
            try:
                code = uuid.UUID(self.near)
            except ValueError:
                raise SearchError("基準施設の指定が正しくありません") from None
            f = Facility.objects.public().filter(code=code).only("lat", "lng", "name").first()
            if f is None or f.lat is None or f.lng is None:
                raise SearchError("基準施設が見つからないか、位置情報がありません")
            self.point, self.point_label = (f.lat, f.lng), f.name

    # Query ---------------------------------------------------------------
    def queryset(self) -> models.QuerySet[Facility]:
        qs = Facility.objects.public()
        if self.q:
            needle = normalize_search(self.q)
            if needle:
                qs = qs.filter(search_text__contains=needle)
        if self.kinds:
            qs = qs.filter(kind__in=self.kinds)
        if self.capability_mask:
            qs = qs.with_capabilities(self.capability_mask)
        if self.municipalities:
            qs = qs.filter(
                Q(municipality__code__in=self.municipalities)
                | Q(municipality__parent__code__in=self.municipalities)
            )
        if self.area is not None:
            qs = qs.filter(
                Q(municipality__secondary_area_id=self.area)
                | Q(municipality__parent__secondary_area_id=self.area)
            )
        if self.vacancy:
            qs = qs.filter(vacancy_status__in=[VacancyStatus.AVAILABLE, VacancyStatus.FEW])
        if self.serves_municipality is not None:
            qs = qs.filter(serves_q(self.serves_municipality))
        if self.point is not None:
            lat0, lng0 = self.point
            ky, kx = KM_PER_DEG_LAT, lng_scale(lat0)
            dlat, dlng = F("lat") - Value(lat0), F("lng") - Value(lng0)
            qs = qs.annotate(
                dist2=ExpressionWrapper(
                    dlat * dlat * Value(ky * ky) + dlng * dlng * Value(kx * kx),
                    output_field=FloatField(),
                )
            )
            if self.radius_km is not None:
                qs = qs.filter(geo_cell__in=cells_covering(lat0, lng0, self.radius_km)).filter(
                    **{"dist2__lte": self.radius_km**2}
                )
        return qs.order_by(*self.ordering())

    def ordering(self) -> list[str]:
        sort = self.sort or ("distance" if self.point is not None else "name")
        if sort == "distance":
            return ["dist2", "id"]
        if sort == "fresh":
            return [F("vacancy_confirmed_at").desc(nulls_last=True), "id"]  # type: ignore[list-item]
        return ["kana", "name", "id"]

    def results(self) -> tuple[list[Facility], int]:
        """The requested page (with related data loaded) and the total count."""
        qs = self.queryset()
        start = (self.page - 1) * self.per_page
        with_dist = self.point is not None
        fields = ["pk", *(["dist2"] if with_dist else [])]
        # Keys first, rows second: a radius search reads only columns of
        # facility_search_idx, so PostgreSQL ranks the candidates from the index alone
        # (index-only scan) instead of fetching thousands of wide rows to keep twenty.
        if self.radius_km is not None:
            # The circle bounds the candidates and the sort reads them all anyway, so
            # the total rides along as a window count: one scan instead of two.
            rows = list(
                qs.annotate(_total=Window(Count("pk"))).values_list(*fields, "_total")[
                    start : start + self.per_page
                ]
            )
            total = rows[0][-1] if rows else (0 if start == 0 else qs.count())
        else:
            total = qs.count()
            rows = (
                list(qs.values_list(*fields)[start : start + self.per_page])
                if start < total
                else []
            )
        if not rows:
            return [], total
        # No ORDER BY: the keys carry the order.
        wanted = Facility.objects.filter(pk__in=[r[0] for r in rows]).order_by()
        by_pk = {f.pk: f for f in wanted.select_related("municipality")}
        page = []
        for r in rows:
            f = by_pk[r[0]]
            if with_dist:
                f.dist2 = r[1]  # type: ignore[attr-defined]
                f.distance_km = math.sqrt(r[1])  # type: ignore[attr-defined]
            else:
                f.distance_km = None  # type: ignore[attr-defined]
            page.append(f)
        attach_capabilities(page, self.vocabulary())
        return page, total

    def vocabulary(self) -> dict[int, Capability]:
        if self._vocabulary is None:
            self._vocabulary = {c.pk: c for c in Capability.objects.all()}
        return self._vocabulary

    def as_params(self) -> dict[str, Any]:
        return {
            "q": self.q,
            "kind": self.kinds,
            "capability": self.capabilities,
            "municipality": self.municipalities,
            "area": self.area,
            "vacancy": "1" if self.vacancy else "",
            "serves": self.serves,
            "lat": self.lat,
            "lng": self.lng,
            "postal": self.postal,
            "near": self.near,
            "radius_km": self.radius_km,
            "sort": self.sort,
        }


def attach_capabilities(
    facilities: list[Facility], vocabulary: dict[int, Capability] | None = None
) -> None:
    """Load f.capabilities.all() for a page, as prefetch_related("capabilities") would.

    The generic prefetch joins and builds one Capability object per link; a page of twenty
    costs ~5 ms, a third of a search request. The links as flat pairs and shared Capability
    objects (the vocabulary the search already read, if given) do the same in a fraction.
    """
    if not facilities:
        return
    through = Facility.capabilities.through
    links = list(
        through.objects.filter(facility_id__in=[f.pk for f in facilities]).values_list(
            "facility_id", "capability_id"
        )
    )
    caps = dict(vocabulary or {})
    # A capability created since the vocabulary was read is loaded here.
    missing = {cid for _, cid in links} - caps.keys()
    if missing:
        caps.update((c.pk, c) for c in Capability.objects.filter(pk__in=missing))
    owned: dict[int, list[Capability]] = {}
    for fid, cid in links:
        owned.setdefault(fid, []).append(caps[cid])
    for f in facilities:
        qs = f.capabilities.get_queryset()
        # Capability.Meta.ordering, as the prefetch would return them.
        qs._result_cache = sorted(owned.get(f.pk, []), key=lambda c: (c.sort_order, c.code))
        qs._prefetch_done = True  # type: ignore[attr-defined]
        f._prefetched_objects_cache = {"capabilities": qs}  # type: ignore[attr-defined]


def serves_q(muni: Municipality) -> Q:
    """Facilities that serve a municipality: listed in their service area, or located in it."""
    ids = [muni.pk] + ([muni.parent_id] if muni.parent_id else [])
    # A subquery, not a join: a facility listing several of the ids must appear once.
    listed = Facility.service_municipalities.through.objects.filter(municipality_id__in=ids).values(
        "facility_id"
    )
    return Q(pk__in=listed) | Q(municipality_id__in=ids) | Q(municipality__parent_id__in=ids)


def municipality_for_postal(postal: str) -> Municipality | None:
    from renkei.lib.postal import municipality_code5, normalize_postal

    if len(normalize_postal(postal)) != 7:
        raise SearchError(f"郵便番号は7桁で入力してください（{postal}）")
    code5 = municipality_code5(postal)
    if code5 is None:
        return None
    return Municipality.objects.filter(code__startswith=code5).select_related("parent").first()


def resolve_place(text: str) -> Municipality | None:
    """A postal code, or an address/municipality name (「藤沢市鵠沼…」), to a municipality."""
    text = text.strip()
    digits = re.sub(r"[\s\-ー－〒]", "", text)
    if re.fullmatch(r"[0-9０-９]{7}", digits):
        return municipality_for_postal(digits)
    from renkei.lib.text import nfkc
    from renkei.regions.models import Prefecture

    address = nfkc(text)
    for pref_name in Prefecture.objects.values_list("name", flat=True):
        if address.startswith(pref_name):
            address = address[len(pref_name) :]
            break
    # Longest municipality name that prefixes the address wins (横浜市青葉区 over 横浜市).
    candidates = Municipality.objects.filter(is_designated_city=False).only(
        "name", "code", "parent"
    )
    best: Municipality | None = None
    for m in candidates.filter(name__in=_prefixes(address)):
        if best is None or len(m.name) > len(best.name):
            best = m
    return best


def _prefixes(text: str) -> list[str]:
    return [text[:i] for i in range(2, min(len(text), 12) + 1)]
