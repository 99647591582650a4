"""The candidates page's rows drawn in Python (referrals.candidates_html, ADR 0070) are the HTML
the template drew, byte for byte.

The replaced template parts are kept here verbatim (referrals/_candidate.html as the page included
it for each candidate, and the loops of the facilities already asked and outside the network) and
rendered by Django over candidates that take every branch: in the network and not, selected or
not, already asked, with and without a vacancy (and a status or kind the choices do not know),
with missing conditions, reasons and unknowns, with and without a distance (rounded as
floatformat:1 does) and a phone number, and names, reasons and phone numbers with <>&"' in them.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from django.template import engines
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.directory.models import Facility, FacilityKind, VacancyStatus
from renkei.referrals import candidates_html
from renkei.referrals.facility_rows import FacilityRow
from renkei.referrals.matching import Candidate
from renkei.referrals.models import PlacementCase, RequestStatus
from renkei.referrals.tests.conftest import login

# referrals/_candidate.html, as {% include %}d once a candidate by candidates.html.
REQUESTABLE = """{% for cand in requestable %}<li class="result">
  <h3>
    {% if cand.can_request %}<label><input type="checkbox" name="facility" value="{{ cand.facility.code }}" {% if cand.facility.code|stringformat:"s" in selected %}checked{% endif %}> {{ cand.facility.name }}</label>
    {% else %}{{ cand.facility.name }}{% endif %}
  </h3>
  <div class="meta">{{ cand.facility.get_kind_display }}｜{{ cand.municipality_name }}{% if cand.distance_km is not None %}｜約{{ cand.distance_km|floatformat:1 }}km{% endif %}｜<a href="{% url 'directory:detail' cand.facility.code %}" target="_blank" rel="noopener">施設情報</a></div>
  <div><span class="vac vac-{{ cand.facility.vacancy_status }}">{{ cand.facility.get_vacancy_status_display }}</span>
    {% if cand.requested_status %} <span class="tag">依頼済み</span>{% elif not cand.in_network %} <span class="tag">ネットワーク未参加（電話等で確認してください）</span>{% endif %}</div>
  {% if cand.missing %}<ul class="tags" aria-label="満たしていない条件">{% for m in cand.missing %}<li class="tag miss">{{ m }}</li>{% endfor %}</ul>{% endif %}
  <ul class="tags" aria-label="候補になった理由">{% for r in cand.reasons %}<li class="tag ok">{{ r }}</li>{% endfor %}{% for t in cand.to_confirm %}<li class="tag">{{ t }}</li>{% endfor %}</ul>
</li>
{% endfor %}"""

REQUESTED = """{% for cand in requested %}<li>{{ cand.facility.name }}（{{ cand.facility.get_kind_display }}）<span class="tag">依頼済み</span></li>{% endfor %}"""

OUTSIDE = """{% for cand, phone in outside_rows %}
  <li class="result">
    <h3>{{ cand.facility.name }}</h3>
    <div class="meta">{{ cand.facility.get_kind_display }}｜{{ cand.municipality_name }}{% if cand.distance_km is not None %}｜約{{ cand.distance_km|floatformat:1 }}km{% endif %}｜<span class="vac vac-{{ cand.facility.vacancy_status }}">{{ cand.facility.get_vacancy_status_display }}</span>{% if cand.missing %}｜不足: {{ cand.missing|join:"、" }}{% endif %}</div>
    <div>{% if phone %}電話 <a href="tel:{{ phone }}">{{ phone }}</a>{% else %}電話番号の登録がありません{% endif %}｜<a href="{% url 'directory:detail' cand.facility.code %}" target="_blank" rel="noopener">施設情報</a></div>
  </li>
  {% endfor %}"""

NASTY = "<特養> & \"なぎさ\" '苑'"


def template(source: str, context: dict[str, Any]) -> str:
    return str(engines["django"].from_string(source).render(context))


def candidate(
    name: str,
    *,
    network: bool = True,
    km: float | None = 1.25,
    kind: str = FacilityKind.TOKUYO,
    vacancy: str = VacancyStatus.AVAILABLE,
    requested: str | None = None,
    missing: tuple[str, ...] = (),
    reasons: tuple[str, ...] = ("処置: 吸引 対応可",),
    to_confirm: tuple[str, ...] = (),
    town: str = "藤沢市",
) -> Candidate:
    # The columns the rows show; the others are matching's (test_facility_rows pins them).
    f = FacilityRow._make([None] * len(FacilityRow._fields))._replace(
        code=uuid.uuid4(),
        name=name,
        kind=kind,
        vacancy_status=vacancy,
        organization_id=1 if network else None,
        municipality_name=town,
    )
    return Candidate(
        facility=f,
        distance_km=km,
        reasons=list(reasons),
        missing=list(missing),
        to_confirm=list(to_confirm),
        requested_status=requested,
    )


def every_state() -> list[Candidate]:
    return [
        candidate(NASTY, reasons=("<b>理由</b> & 'x'", "在宅療養後方支援病院")),
        candidate("選ばれた施設", km=2.25, to_confirm=("要確認: 認知症の受入れ（未登録）",)),
        candidate("空きなし", km=0.05, vacancy=VacancyStatus.NONE, reasons=()),
        candidate("未登録", km=None, vacancy=VacancyStatus.UNKNOWN, town='<町> & "村"'),
        candidate(
            "あと少し", km=12.35, vacancy=VacancyStatus.FEW, missing=("不足: 胃ろう", "<範囲外>")
        ),
        candidate("遠い", km=1234.56, kind=FacilityKind.HOSPITAL, vacancy=VacancyStatus.FEW),
        candidate("依頼済み", requested=RequestStatus.SENT),
        candidate("ネットワーク外", network=False, missing=("不足: 吸引",)),
        candidate("知らない値", kind="<kind>", vacancy="<status>", km=3.0),
    ]


def test_the_requestable_rows_are_the_template_s_html() -> None:
    cands = every_state()
    selected = {str(cands[1].facility.code), "not-a-code"}
    ours = candidates_html.requestable_rows(cands, selected)
    assert ours == template(REQUESTABLE, {"requestable": cands, "selected": selected})
    # Each branch was taken, and markup in a value stays text.
    assert ours.count(" checked>") == 1 and ours.count('type="checkbox"') == 7
    assert "依頼済み</span>" in ours and "ネットワーク未参加" in ours
    assert "｜約2.3km｜" in ours and "｜約0.1km｜" in ours and "｜約12.4km｜" in ours
    assert "｜約1234.6km｜" in ours and "｜約3.0km｜" in ours
    assert "&lt;特養&gt; &amp; &quot;なぎさ&quot; &#x27;苑&#x27;" in ours and "<b>" not in ours
    assert "&lt;町&gt; &amp; &quot;村&quot;" in ours and "vac-&lt;status&gt;" in ours


def test_the_requested_rows_are_the_template_s_html() -> None:
    cands = [candidate(NASTY, requested=RequestStatus.SENT), candidate("二番目", kind="<kind>")]
    ours = candidates_html.requested_rows(cands)
    assert ours == template(REQUESTED, {"requested": cands})
    assert "&lt;特養&gt;" in ours and "（介護老人福祉施設（特養））" in ours


def test_the_outside_rows_are_the_template_s_html() -> None:
    rows = [
        (c, phone)
        for c, phone in zip(
            every_state(),
            ["0466-00-0000", "", '<0466> & "1"', "", "045-000-0000", "", "03", "", "x"],
            strict=True,
        )
    ]
    ours = candidates_html.outside_rows(rows)
    assert ours == template(OUTSIDE, {"outside_rows": rows})
    assert '電話 <a href="tel:0466-00-0000">0466-00-0000</a>' in ours
    assert "電話番号の登録がありません" in ours and "&lt;0466&gt; &amp; &quot;1&quot;" in ours
    assert "｜不足: 不足: 胃ろう、&lt;範囲外&gt;</div>" in ours


def test_no_rows_draw_nothing() -> None:
    assert candidates_html.requestable_rows([], set()) == template(REQUESTABLE, {"requestable": []})
    assert candidates_html.outside_rows([]) == template(OUTSIDE, {"outside_rows": []}) == ""


@pytest.mark.django_db
def test_the_page_shows_the_rows(
    client: Client,
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
) -> None:
    """The view passes the candidates through: the row, its link and the checkbox chosen."""
    login(client, msw)
    url = reverse("referrals:candidates", args=[case.code])
    code = str(tokuyo[0].code)
    page = client.post(url, {"facility": [code], "deadline": "2099-01-01T17:00"}).content.decode()
    assert (
        f'<input type="checkbox" name="facility" value="{code}" checked> 特養なぎさ苑</label>'
        in page
    )
    assert f'<a href="/directory/{code}/" target="_blank" rel="noopener">施設情報</a>' in page


@pytest.mark.django_db
def test_the_outside_list_shows_the_phone_numbers_read_with_the_candidates(
    client: Client, msw: Membership, case: PlacementCase
) -> None:
    """The facilities outside the network come with their phone numbers from the candidate
    query itself: the page reads the facility table once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from renkei.referrals.tests.test_matching import place

    place("電話のある特養", km=1.5, capability_codes=["suction"], phone="0466-22-0000")
    place("電話のない特養", km=2.5, capability_codes=["suction"])
    login(client, msw)
    url = reverse("referrals:candidates", args=[case.code])
    client.get(url)  # the session's first refresh is not the page's
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert '電話 <a href="tel:0466-22-0000">0466-22-0000</a>' in page
    assert page.count("電話番号の登録がありません") == 1
    # The candidate query's own text names the table unquoted, the ORM's quoted.
    assert sum(bool(re.search(r'FROM "?directory_facility\b', q["sql"])) for q in queries) == 1


def test_the_send_form_s_token_and_deadline_are_the_template_s_html(
    settings: Any,
) -> None:
    """Unbound (drawn from the per-process memo, ADR 0075) and bound with an error (drawn by
    the template), the token and the deadline are what {{ form.form_token }} and the
    field include drew; each unbound form keeps its own token, and a new default deadline
    (the next day) is drawn anew."""
    from django.utils import timezone

    from renkei.referrals.forms import SendForm

    settings.DEBUG = False
    old = '{{ form.form_token }}|{% include "components/field.html" with field=form.deadline %}'
    for _ in range(2):  # the second time from the memo
        form = SendForm()
        ours = f"{candidates_html.token_input(form)}|{candidates_html.deadline_field(form)}"
        assert ours == template(old, {"form": form})
        assert f'value="{form.initial["form_token"]}"' in ours and 'type="hidden"' in ours
        assert 'type="datetime-local"' in ours
    assert SendForm().initial["form_token"] not in ours  # a fresh token each time
    tomorrow = SendForm(initial={"deadline": timezone.localtime() + dt.timedelta(days=3)})
    drawn = candidates_html.deadline_field(tomorrow)
    assert drawn == template(old.split("|")[1], {"form": tomorrow}) != ours.split("|")[1]
    bound = SendForm({"form_token": "<t>", "deadline": "not a date"})
    assert not bound.is_valid()
    ours = f"{candidates_html.token_input(bound)}|{candidates_html.deadline_field(bound)}"
    assert ours == template(old, {"form": bound})
    assert "&lt;t&gt;" in ours and "errorlist" in ours
