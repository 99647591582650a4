"""The rows rendered in Python (care.timeline_html, ADR 0057) are the HTML the templates drew.

Each function is compared, up to the length of runs of whitespace, with the template loop it replaced
(kept here verbatim), over posts that take every branch: unread and read, addressees, a reply
request, visit items set and empty, replies, a reader list, markup in the text; and patient
rows with and without unread posts.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.template import engines
from django.test import Client

from renkei.accounts.models import Membership
from renkei.care import timeline_html
from renkei.care.actions import timeline as tl
from renkei.care.models import CareLevel, Patient, Post
from renkei.care.testing import make_post
from renkei.care.tests.conftest import verified

pytestmark = pytest.mark.django_db

THREADS = """{% for post in posts %}
<article class="care-post{% if post.unread %} unread{% endif %}">
  <div class="head"><span class="tag">{{ post.get_category_display }}</span><strong>{{ post.author.user }}</strong><span class="meta">{{ post.author.organization.name }}・{{ post.created_at|date:"Y-m-d H:i" }}</span>{% if post.unread %}<span class="tag miss">未読</span>{% endif %}</div>
  {% if post.mentioned_roles %}<p class="meta">宛先: {% for r in post.role_labels %}@{{ r }} {% endfor %}</p>{% endif %}
  {% if post.reply_due %}<p><span class="tag miss">返信依頼</span> 期限 {{ post.reply_due|date:"Y-m-d" }}</p>{% endif %}
  <div class="body">{{ post.body }}</div>
  {% if post.category == "visit" %}<dl class="facts care-visit">
    <dt>次回の訪問予定日</dt><dd>{{ post.next_visit|date:"Y-m-d"|default:"—" }}</dd>
    <dt>方針の変更</dt><dd>{% if post.plan_changed %}あり: {{ post.plan_summary }}{% else %}なし{% endif %}</dd>
    <dt>療養上の留意点</dt><dd>{{ post.care_points|default:"—" }}</dd>
    <dt>人生の最終段階に関する情報</dt><dd>{{ post.end_of_life|default:"—" }}</dd>
  </dl>{% endif %}
  <p class="meta">既読: {{ post.reader_names|default:"なし" }}</p>
  {% if post.thread %}<div class="replies">{% for r in post.thread %}
    <div><strong>{{ r.author.user }}</strong> <span class="meta">{{ r.created_at|date:"Y-m-d H:i" }}</span>{% if r.unread %} <span class="tag miss">未読</span>{% endif %}<div class="body">{{ r.body }}</div></div>
  {% endfor %}</div>{% endif %}
  {% if on_team %}<details class="no-print"><summary>返信する</summary>
    <form method="post" action="{{ post_url }}" class="care-form">{{ csrf_input }}<input type="hidden" name="parent" value="{{ post.code }}"><input type="hidden" name="category" value="contact">
      <label for="reply-{{ post.pk }}">返信</label><textarea id="reply-{{ post.pk }}" name="body" rows="2" maxlength="4000"></textarea>
      <button class="btn small" type="submit">返信する</button></form>
  </details>{% endif %}
</article>
{% endfor %}"""

SINCE = """{% for post in posts %}
<article class="care-post">
  <div class="head"><strong>{{ post.get_category_display }}</strong><span>{{ post.author.user }}（{{ post.author.organization.name }}）</span><span class="meta">{{ post.created_at|date:"Y-m-d H:i" }}</span>{% if post.parent_id %}<span class="meta">返信</span>{% endif %}</div>
  <div class="body">{{ post.body }}</div>
  {% if post.plan_changed %}<div class="care-visit">方針の変更: {{ post.plan_summary }}</div>{% endif %}
  {% if post.next_visit %}<div class="meta">次回の訪問予定: {{ post.next_visit|date:"Y-m-d" }}</div>{% endif %}
</article>
{% endfor %}"""

ROWS = """{% for p, unread in rows %}
  <li class="with-action"><a class="row" href="{{ p.get_absolute_url }}">
    <span><span class="name">{{ p.name }}</span> <span class="meta">{{ p.kana }}・{{ p.age }}歳・{{ p.get_care_level_display }}</span></span>
    {% if unread %}<span class="badge" aria-label="未読{{ unread }}件">{{ unread }}</span>{% endif %}
  </a><a class="btn secondary small quick" href="{{ p.get_absolute_url }}?new=visit#new-post" aria-label="{{ p.name }}さんの訪問記録を書く">訪問記録</a></li>
{% endfor %}"""


TEAM = """{% for r in team %}{{ r.get_team_role_display }}: {{ r.membership.user }}（{{ r.membership.organization.name }}）{% if not forloop.last %}<br>{% endif %}{% endfor %}"""


def template(source: str, context: dict[str, Any]) -> str:
    return str(engines["django"].from_string(source).render(context))


def same(html: str) -> str:
    """Runs of whitespace as one space, as a browser lays them out (none is inside <pre>)."""
    return re.sub(r"\s+", " ", html).strip()


def varied_timeline(patient: Patient, doctor: Membership, nurse: Membership) -> None:
    make_post(patient, doctor, body="<b>太字</b> & 'quote' \"double\"")
    asked = make_post(
        patient, nurse, category="request", body="<script>x</script>",
        reply_due=dt.date(2030, 1, 5),
    )  # fmt: skip
    Post.objects.filter(pk=asked.pk).update(mentioned_roles=["primary_doctor", "care_manager"])
    make_post(patient, doctor, body="返信 <i>1</i>", parent=asked)
    make_post(patient, nurse, body="返信 2", parent=asked)
    make_post(
        patient, nurse, category="visit", body="訪問", next_visit="2030-01-10", plan_changed=True,
        plan_summary="利尿剤を<減量>", care_points="転倒に注意", end_of_life="自宅で過ごしたい",
    )  # fmt: skip
    plain = make_post(
        patient, doctor, category="visit", body="訪問（変更なし）", next_visit="2030-02-01"
    )
    # A visit row without a next visit (older data): the template's 「—」.
    Post.objects.filter(pk=plain.pk).update(next_visit=None)


@pytest.mark.parametrize("on_team", [True, False])
def test_the_threads_are_the_template_s_html(
    doctor: Membership, nurse: Membership, patient: Patient, on_team: bool
) -> None:
    """Unread and read posts, addressees, a reply request, visit items set and empty,
    replies (one unread), readers, markup in every text: as the template drew them."""
    varied_timeline(patient, doctor, nurse)
    # The nurse has read the first post; the doctor's page shows the rest as unread.
    tl.timeline(patient, by=nurse, query=tl.TimelineQuery())
    page = tl.timeline(patient, by=doctor, query=tl.TimelineQuery(), mark_read=False)
    posts = list(page.object_list)
    assert any(p.unread for p in posts) and any(p.thread for p in posts)  # type: ignore[attr-defined]
    post_url = f"/care/p/{patient.code}/posts/"
    csrf_input = '<input type="hidden" name="csrfmiddlewaretoken" value="t">'
    context = {"posts": posts, "on_team": on_team, "post_url": post_url}
    ours = timeline_html.threads(posts, on_team=on_team, post_url=post_url, csrf_input=csrf_input)
    expected = template(THREADS.replace("{{ csrf_input }}", csrf_input), context)
    assert same(ours) == same(expected)
    assert "<script>" not in ours and "&lt;script&gt;" in ours


def test_the_since_list_is_the_template_s_html(
    doctor: Membership, nurse: Membership, outsider: Membership, patient: Patient
) -> None:
    """Replies, a changed plan and a next visit, markup in the text: as the template drew."""
    varied_timeline(patient, doctor, nurse)
    # Someone who never wrote here sees every post (the action; the page's access is not
    # what this compares).
    changes = tl.changes_since_last_visit(patient, by=outsider)
    assert len(changes.posts) == 6
    ours = timeline_html.since_posts(changes.posts)
    assert same(ours) == same(template(SINCE, {"posts": changes.posts}))


def test_the_patient_rows_are_the_template_s_html(
    doctor: Membership, nurse: Membership, patient: Patient
) -> None:
    """Name, kana, age, care level, the unread badge when there is one, the links."""
    Patient.objects.filter(pk=patient.pk).update(care_level=CareLevel.choices[-1][0])
    p = Patient.objects.get(pk=patient.pk)
    p.name = "<山田> & 花子"
    rows = [(p, 3), (Patient.objects.get(pk=patient.pk), 0)]
    ours = timeline_html.patient_rows(rows)
    assert same(ours) == same(template(ROWS, {"rows": rows}))
    assert "&lt;山田&gt; &amp; 花子" in ours


def test_the_pages_show_the_rows(doctor: Membership, nurse: Membership, patient: Patient) -> None:
    """The timeline, since-last-visit and patient list pages carry the rendered rows."""
    varied_timeline(patient, doctor, nurse)
    client = verified(Client(), doctor)
    timeline = client.get(f"/care/p/{patient.code}/").content.decode()
    assert timeline.count('<article class="care-post') == 4  # threads; replies inside
    assert 'name="csrfmiddlewaretoken"' in timeline.split('class="replies"')[1]
    make_post(patient, nurse, body="<script>y</script>")
    since = client.get(f"/care/p/{patient.code}/since/").content.decode()
    assert since.count('<article class="care-post">') == 1
    assert "&lt;script&gt;y&lt;/script&gt;" in since
    home = client.get("/care/").content.decode()
    assert f'href="/care/p/{patient.code}/?new=visit#new-post"' in home


def test_the_team_list_is_the_template_s_html(
    doctor: Membership, nurse: Membership, patient: Patient
) -> None:
    """Role, member and organisation, one a line, in the team's order."""
    nurse.user.display_name = "<田中> & 看護師"
    nurse.user.save()
    team = list(patient.current_team())
    assert len(team) == 2
    ours = timeline_html.team_list(team)
    assert ours == template(TEAM, {"team": team})
    assert "&lt;田中&gt; &amp; 看護師" in ours


# The post form's fields as the timeline drew them before they were kept per process.
POST_FORM_FIELDS = """{% include "components/form_errors.html" with form=post_form %}
  {% include "components/field.html" with field=post_form.category %}
  {% include "components/field.html" with field=post_form.body %}
  <button class="btn" type="submit">投稿する</button>
  <details{% if post_form.next_visit.errors or post_form.plan_summary.errors or post_form.reply_due.errors or quick_visit %} open{% endif %}><summary>返信の依頼・訪問記録の項目（在宅医療情報連携加算）</summary>
    {% include "components/field.html" with field=post_form.reply_due %}
    {% include "components/field.html" with field=post_form.next_visit %}
    {% include "components/field.html" with field=post_form.plan_changed %}
    {% include "components/field.html" with field=post_form.plan_summary %}
    {% include "components/field.html" with field=post_form.care_points %}
    {% include "components/field.html" with field=post_form.end_of_life %}
  </details>"""


@pytest.mark.parametrize("quick_visit", [False, True])
def test_the_empty_post_form_kept_per_process_is_the_template_s_html(
    doctor: Membership, patient: Patient, quick_visit: bool
) -> None:
    """The kept fields are a fresh form's; the page shows them, a visit note opened for
    ?new=visit; a form sent back with errors is drawn anew with the member's input."""
    from renkei.care.forms import PostForm

    form = PostForm(initial={"category": "visit"} if quick_visit else None)
    kept = timeline_html.blank_post_form(quick_visit)
    fresh = template(POST_FORM_FIELDS, {"post_form": form, "quick_visit": quick_visit})
    assert same(kept) == same(fresh)
    assert ('<option value="visit" selected>' in kept) is quick_visit
    client = verified(Client(), doctor)
    page = client.get(f"/care/p/{patient.code}/" + ("?new=visit" if quick_visit else ""))
    assert same(kept) in same(page.content.decode())
    sent = client.post(
        f"/care/p/{patient.code}/posts/", {"category": "visit", "body": "<b>途中の記録</b>"}
    )
    assert sent.status_code == 400
    body = sent.content.decode()
    assert tl.NEXT_VISIT_REQUIRED in body and "&lt;b&gt;途中の記録&lt;/b&gt;" in body
    assert '<option value="visit" selected>' in body
