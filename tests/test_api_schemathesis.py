"""Schemathesis over the whole /api/v1/ schema: no 5xx, no undocumented status, no response that
breaks the schema — anonymously and signed in, in the roles that unlock each app's endpoints.

The schema is the one the WSGI application serves. Generation is derandomised and bounded, so a
run is deterministic; RENKEI_API_FUZZ_EXAMPLES raises the bound for a deeper local run. One
seeded world (tests/api_world.py) is shared by the module; each operation's test runs in its own
savepoint, so what one operation's examples change (a withdrawn case, a cancelled application) is
gone before the next. About half of the generated path parameters, and of the body fields that
name other records (municipality codes, topics, facilities, mentors), are replaced by values of
seeded objects, so handlers run past their 404 and 400 into the actions behind them.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.http import HttpRequest
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from ninja import Router
from pydantic import create_model
from schemathesis.checks import not_a_server_error
from schemathesis.python._constants.orchestrator import build_constants_pool
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from renkei.accounts.models import OrgKind, Role
from renkei.api import RenkeiAPI, api
from renkei.desk.models import Consultation
from renkei.desk.testing import make_desk, make_desk_member
from renkei.events.models import Event
from renkei.oncall.models import ShiftRule
from renkei.referrals.models import Survey
from renkei.testing import make_facility, make_member, make_org, sign_in
from renkei.wsgi import application
from tests.api_world import CSRF_TOKEN, World, build_world

EXAMPLES = int(os.environ.get("RENKEI_API_FUZZ_EXAMPLES", "12"))

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260401,
        "generation": {
            "mode": "all",
            "deterministic": True,
            "database": "none",
            # The session cookie is the caller's (each test's role), not a generated value: a
            # "missing" one would be put back by `_call` and judged an accepted invalid request.
            "with-security-parameters": False,
            # NUL in any text is refused before any handler (renkei.lib.badinput, 400; the API's
            # description says so and test_nul_characters_… below holds it); a JSON Schema cannot
            # say "no U+0000" short of a pattern on every string.
            "allow-x00": False,
            # Unknown query parameters are ignored by design: a screen's query string carries
            # more than its filters (another list's page, a return address; lib.inputs.parse_query).
            "allow-extra-parameters": False,
        },
        # No examples in the schema, and the coverage phase's boundary cases are unbounded in
        # number; fuzzing alone keeps the run's length fixed.
        "phases": {
            "examples": {"enabled": False},
            "coverage": {"enabled": False},
            "fuzzing": {"enabled": True},
        },
    }
)

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)
# Schemathesis reads the application's modules for literals to generate with (its constants
# pool) once per schema object, and each `schema.include(...)` below is a new one: read once
# here, before them, every filtered copy shares the pool (same values, one reading instead of 17
# at every worker's collection).
build_constants_pool(schema)

# Refusals of well-formed requests that no JSON Schema can state: a rule against the data (a
# code or record that must exist, a state the record must be in, a page that must be there) or
# across fields. Operation -> {regex on the answer's "detail": why}. Each is a documented 400
# ("入力内容が正しくありません" on every operation with input) with a Japanese message; anything
# else refused for a schema-valid request fails `valid_requests_accepted` below, and the rule
# belongs in the typed input (its schema) instead.
MUNICIPALITY = "a well-formed municipality code may not exist"
INHERENT: dict[str, dict[str, str]] = {
    # renkei.lib.badinput, before any handler and for every parameter (the API's description
    # says so): a value of more than 18 digits past 64 bits is a 400, even where it is text.
    "*": {r"^数値が大きすぎます": "no value of the platform needs a number past 64 bits"},
    "GET /api/v1/directory/facilities": {
        "二次医療圏が見つかりません": "an area id must exist",
        "処置項目が見つかりません": "capability codes are a data table",
        "緯度と経度は両方": "lat and lng go together",
        "半径で絞り込むには": "a radius needs a point",
        "距離順に並べるには": "the distance order needs a point",
        "郵便番号「.*」の地点がわかりません": "a postal code must be known",
        "基準施設が見つからない": "the reference facility must exist and have a position",
        "市区町村を特定できません": "the address must name a municipality",
        "の医療圏です。都道府県と合わせて": "an area of another prefecture (across fields)",
    },
    "GET /api/v1/desk/desks/{desk}/consultations": {
        r"ページ\d+はありません": "a page past the last of this desk's list",
        "相談内容の分類が正しくありません": "topics are the desk's own table",
    },
    "GET /api/v1/events/": {
        "二次医療圏が見つかりません": "an area id must exist",
        "市区町村コードが見つかりません": "a well-formed municipality code may not exist",
    },
    "GET /api/v1/referrals/admission/hospitals": {
        "処置項目が見つかりません": "capability codes are a data table",
        "市区町村コードが見つかりません": "a well-formed municipality code may not exist",
    },
    "GET /api/v1/referrals/dashboard": {"二次医療圏が見つかりません": "an area id must exist"},
    "PATCH /api/v1/directory/facilities/{code}": {
        "処置項目が見つかりません": "capability codes are a data table",
        "市区町村コードが見つかりません": "a well-formed municipality code may not exist",
        "存在しない市区町村コードがあります": "a well-formed municipality code may not exist",
        "URLを正しく入力してください": "a web address Django's URL validator accepts (scheme, host, domain)",
    },
    "POST /api/v1/directory/facilities/{code}/vacancy/confirm": {
        "空き状況が未登録のため": "only a reported vacancy can be confirmed (state)",
    },
    "POST /api/v1/programmes/indicators/population": {
        "ファイルが空です": "a file's content is data, not schema (as the screen's upload)",
        "文字コードを読み取れません": "a CSV is UTF-8 or Shift_JIS text",
        "Excel（.xlsx）のファイルとして読めません": "bytes that start like a zip are read as .xlsx",
        r"古い Excel 形式": "an .xls name needs .xlsx content",
        "見出しの行が見つかりません": "the file must hold the e-Stat table's header",
        "年齢階級の列がありません": "the header must have the age bands",
        "誤りのある行が": "rows must name known municipalities with numbers",
        r"行が多すぎます": "a bound on the file's lines",
    },
    "POST /api/v1/desk/desks/{desk}/consultations": {
        "この窓口で使えない相談内容の分類": "topics are the desk's own table",
        "市区町村コードが見つかりません": "a well-formed municipality code may not exist",
    },
    "POST /api/v1/events/manage/events": {
        "会場かオンライン参加URLのどちらか": "a venue or an online URL (across two fields)",
    },
    "POST /api/v1/events/{code}/applications": {
        "市民向けの講座です": "the event's audience decides the form (the data)",
    },
    "POST /api/v1/events/{code}/resident-applications": {
        "この研修は医療・介護の従事者向けです": "the event's audience decides the form (the data)",
    },
    "POST /api/v1/mentoring/matches/{code}/honorarium": {
        "実施報告が提出されてから謝礼": "the honorarium follows the mentor's report (state)",
    },
    "POST /api/v1/mentoring/mentors": {
        "選べない市区町村が含まれています": "areas lie in the programme's prefecture (the data)",
    },
    "POST /api/v1/mentoring/programs": {
        "この年度の同行研修は既に登録されています": "one programme per fiscal year (the data)",
    },
    "POST /api/v1/mentoring/reports/{token}/report": {
        "報告は研修日（.*）以降に提出してください": "the report comes after the visit (state)",
        "研修日が登録されていません": "the visit must be scheduled first (state)",
    },
    "POST /api/v1/referrals/cases": {
        "市区町村コードが見つかりません": "a well-formed municipality code may not exist",
        "希望する退院・転院先を1つ以上": "destinations are required unless draft (across fields)",
    },
    "POST /api/v1/referrals/cases/{code}/assign": {
        "担当者は同じ医療機関の職員から": "the assignee must be a colleague (the data)",
    },
    # 在宅ケア
    "POST /api/v1/care/patients": {
        "生年月日は1900年以降、今日までの日付": "a birth date up to today (the clock)",
    },
    "PUT /api/v1/care/patients/{code}": {
        "生年月日は1900年以降、今日までの日付": "a birth date up to today (the clock)",
    },
    "POST /api/v1/care/placement-cases/{case}/patient": {
        "生年月日は1900年以降、今日までの日付": "a birth date up to today (the clock)",
        "同意がなければ患者として登録できません": "the patient's consent must be affirmed",
        "受入先が決定した案件だけ": "the case must be decided (the data)",
        "生年月日が案件の年齢": "the birth date must fit the case's age band (the data)",
        "受入先で招待する職員が見つかりません": "the facility's login must exist (the data)",
    },
    "POST /api/v1/care/break-glass": {
        "生年月日は1900年以降、今日までの日付": "a birth date up to today (the clock)",
    },
    # A shared form's content (e.g. 医師→ケアマネ連絡票) carries the patient's birth date too.
    "POST /api/v1/care/patients/{code}/forms": {
        "生年月日は1900年以降、今日までの日付": "a birth date up to today (the clock)",
    },
    "PUT /api/v1/care/patients/{code}/forms/{form}": {
        "生年月日は1900年以降、今日までの日付": "a birth date up to today (the clock)",
    },
    "POST /api/v1/care/patients/{code}/team": {
        "招待する方が見つかりません": "the invitee's login must exist (the data)",
    },
    "POST /api/v1/care/patients/{code}/acp": {
        "確認した日に未来の日付は入力できません": "a date up to today (the clock)",
    },
    "POST /api/v1/care/patients/{code}/posts": {
        "方針の変更がある場合は、変更の概要": "a changed plan needs its summary (across fields)",
    },
    "PUT /api/v1/care/patients/{code}/emergency-sheet": {
        "蘇生についての希望を選んだら、確認した日": "a wish needs its date (across fields)",
    },
    # 当番・副主治医・後方ベッド
    "GET /api/v1/oncall/now": {"市区町村が見つかりません": MUNICIPALITY},
    "POST /api/v1/oncall/rotas": {
        "二次医療圏が見つかりません": "an area id must exist",
        "市区町村コードに不明なものがあります": MUNICIPALITY,
    },
    "PUT /api/v1/oncall/rotas/{code}": {
        "二次医療圏が見つかりません": "an area id must exist",
        "市区町村コードに不明なものがあります": MUNICIPALITY,
    },
    "POST /api/v1/oncall/rotas/{code}/members": {
        "参加できる医療機関が見つかりません": "a care provider's organisation code (the data)",
    },
    "POST /api/v1/oncall/rotas/{code}/generate": {
        "当番枠の規則がありません": "rules come first (state)",
        "参加機関がありません": "members come first (state)",
    },
    "POST /api/v1/oncall/rotas/{code}/publish": {
        "この月の当番表はまだ作成されていません": "the month is generated first (state)",
    },
    "POST /api/v1/oncall/rotas/{code}/override": {
        "この当番表の参加機関ではありません": "a member of this rota (the data)",
        "終了日は開始日以降": "the end on or after the start (across fields)",
        "一度に変更できるのは62日まで": "at most 62 days between the two dates (across fields)",
    },
    "POST /api/v1/oncall/rotas/{code}/unavailable": {
        "この当番表の参加機関ではありません": "a member of this rota (the data)"
    },
    "PUT /api/v1/oncall/shifts/{code}": {
        "この当番表の参加機関ではありません": "a member of this rota (the data)"
    },
    "POST /api/v1/oncall/shifts/{code}/swaps": {
        "この当番表の参加機関ではありません": "a member of this rota (the data)",
        "公開前の当番表では交代を申し出られません": "the month must be published (state)",
        "終わった当番は交代できません": "the shift must be ahead (the clock)",
        "自分自身とは交代できません": "another member than one's own (the data)",
    },
    "POST /api/v1/oncall/absences": {
        "終了は開始より後に": "the end after the start (across fields)"
    },
    "POST /api/v1/oncall/patients/{code}/cover": {
        "市区町村コードが見つかりません": MUNICIPALITY,
        "副主治医の医療機関が見つかりません": "the secondary's organisation must exist (the data)",
        "副主治医は別の医療機関にしてください": "another organisation than the primary (the data)",
        "副主治医の連絡先電話を入力": "a secondary needs a phone (across fields)",
        "終了日は開始日以降": "the end on or after the start (across fields)",
    },
    "POST /api/v1/oncall/patients/{code}/cover-searches": {
        "市区町村コードが見つかりません": MUNICIPALITY
    },
    "POST /api/v1/oncall/cover-searches/{code}/choose": {
        "名乗り出た医療機関から選んでください": "one of the volunteers (the data)",
    },
    "POST /api/v1/oncall/patients/{code}/cover/shares": {
        "主治医・副主治医の取り決めが記録されていません": "an agreement must be recorded first (state)",
        "副主治医が決まっていない取り決めです": "the agreement must have a secondary (state)",
        "共有した日に未来の日付は入力できません": "a date up to today (the clock)",
        "共有した日が対象月の中にありません": "the day lies in the month (across fields)",
    },
    "POST /api/v1/oncall/patients/{code}/backup-bed": {
        "受付中の後方ベッドが見つかりません": "an open offer must exist (the data)",
    },
    # 調査・指標、事業管理
    "POST /api/v1/programmes/surveys/": {
        "回答期限が過ぎた日付です": "a deadline not past (the clock)"
    },
    "PUT /api/v1/programmes/indicators/values": {
        "指標が見つかりません": "indicator codes are a data table",
    },
    "POST /api/v1/programmes/bodies": {
        "上位の会議体が見つかりません": "the parent body must exist"
    },
    "PUT /api/v1/programmes/bodies/{code}": {
        "上位の会議体が見つかりません": "the parent body must exist (and not be itself)",
    },
    "POST /api/v1/programmes/bodies/{code}/members": {
        "組織が見つかりません": "the organisation code must exist (the data)",
        "組織か氏名のどちらか": "an organisation or a name (across fields)",
    },
    "POST /api/v1/programmes/bodies/{code}/meetings": {
        "開催日がその年度に入っていません": "the date lies in the fiscal year (across fields)",
    },
    "POST /api/v1/programmes/bodies/{code}/schedule": {
        "開催日がその年度に入っていません": "the dates lie in the fiscal year (across fields)",
    },
    "PUT /api/v1/programmes/meetings/{code}": {
        "開催日がその年度に入っていません": "the date lies in the fiscal year (across fields)",
    },
    "POST /api/v1/programmes/meetings/{code}/notice": {
        "通知先メールのある構成員がいません": "some member must have an address (the data)",
    },
    "POST /api/v1/programmes/issues": {
        "会議が見つかりません": "the meeting must exist (the data)",
        "会議で提起された課題は、その会議を選んでください": "a meeting for that source (across)",
    },
    "PUT /api/v1/programmes/issues/{code}": {
        "会議が見つかりません": "the meeting must exist (the data)",
        "会議で提起された課題は、その会議を選んでください": "a meeting for that source (across)",
    },
    "POST /api/v1/programmes/issues/{code}/countermeasures": {
        "決定事項が見つかりません": "the decision must exist (the data)",
        "財源となる事業が見つかりません": "the programme lines must exist (the data)",
        "指標が見つかりません": "indicator codes are a data table",
    },
    "PUT /api/v1/programmes/countermeasures/{code}": {
        "決定事項が見つかりません": "the decision must exist (the data)",
        "財源となる事業が見つかりません": "the programme lines must exist (the data)",
        "指標が見つかりません": "indicator codes are a data table",
    },
    "PUT /api/v1/programmes/meetings/{code}/attendance": {
        "構成員が見つかりません": "the body's members are the data",
    },
    # 研修コース・専門職派遣
    "POST /api/v1/courses/manage/courses": {
        "終了時刻は開始時刻より後に": "a session ends after it starts (across fields)",
        "会場を入力するか": "a session has a venue or is online (across fields)",
        "申込期限は申込開始より後に": "the period ends after it starts (across fields)",
        "申込期限は初日より前に": "the deadline comes before the round's first day (across fields)",
        "公開するには、回を1つ以上": "a published course has a round (across fields)",
        "市区町村コードが見つかりません": "a well-formed municipality code may not exist",
    },
    "PUT /api/v1/courses/manage/courses/{code}": {
        "公開するには、回を1つ以上": "a published course has a round (the data)",
        "市区町村コードが見つかりません": "a well-formed municipality code may not exist",
    },
    "POST /api/v1/courses/manage/courses/{code}/rounds": {
        "終了時刻は開始時刻より後に": "a session ends after it starts (across fields)",
        "会場を入力するか": "a session has a venue or is online (across fields)",
        "申込期限は申込開始より後に": "the period ends after it starts (across fields)",
        "申込期限は初日より前に": "the deadline comes before the round's first day (across fields)",
    },
    "PUT /api/v1/courses/manage/courses/{code}/rounds/{number}": {
        "申込期限は申込開始より後に": "the period ends after it starts (across fields)",
        "申込期限は初日より前に": "the deadline comes before the round's first day (the data)",
    },
    "POST /api/v1/courses/manage/courses/{code}/rounds/{number}/sessions": {
        "終了時刻は開始時刻より後に": "a session ends after it starts (across fields)",
        "会場を入力するか": "a session has a venue or is online (across fields)",
        "申込期限が初日より後になります": "a day before the round's deadline (the data)",
    },
    "PUT /api/v1/courses/manage/courses/{code}/rounds/{number}/sessions/{session}": {
        "終了時刻は開始時刻より後に": "a session ends after it starts (across fields)",
        "会場を入力するか": "a session has a venue or is online (across fields)",
        "申込期限が初日より後になります": "a day before the round's deadline (the data)",
    },
    "POST /api/v1/courses/manage/courses/{code}/rounds/{number}/applications": {
        "この研修の対象職種は": "the course's eligible occupations (the data)",
        r"経験\d+年以上の方が対象": "the course's minimum experience (the data)",
        "にお勤めの方が対象です": "the course's employer kinds (the data)",
        "市区町村コードが見つかりません": "a well-formed municipality code may not exist",
    },
    "POST /api/v1/courses/dispatch/requests": {
        "終了時刻は開始時刻より後に": "the visit ends after it starts (across fields)",
    },
    "POST /api/v1/referrals/requests/{code}/answer": {
        "受入不可の理由を選んでください": "a decline needs its reason (across fields)",
        "面談希望の場合は、候補日時を": "an interview needs dates (across fields)",
    },
}


@schemathesis.check
def valid_requests_accepted(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """positive_data_acceptance, except a 400 for a rule listed in INHERENT."""
    if response.status_code == 400 and case.meta and case.meta.generation.mode.is_positive:
        detail = str(response.json().get("detail", ""))
        rules = {**INHERENT["*"], **INHERENT.get(f"{case.method} {case.operation.path}", {})}
        if any(re.search(rule, detail) for rule in rules):
            return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    valid_requests_accepted,
    negative_data_rejection,
]
# A path: every check's verdict on every case is appended there as a JSON line, and no case
# fails (to count the disagreements of a whole run instead of stopping at each operation's first).
REPORT = os.environ.get("RENKEI_API_FUZZ_REPORT")

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=EXAMPLES,
    suppress_health_check=[
        # `db` and `world` are shared on purpose: examples build on each other's changes
        # inside one operation's savepoint.
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
# Without a session every member-only operation stops at the same 401, whatever the input.
FEW = settings(FUZZ, max_examples=max(EXAMPLES // 4, 2))

# Filled by the `world` fixture before any example is drawn; read by the hooks below.
REAL: dict[str, Any] = {"path": {}, "body": {}}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Half of the time, point the path at seeded objects."""
    known = REAL["path"].get(context.operation.path)
    if not known or path_parameters is None:
        return st.just(path_parameters)
    return st.one_of(
        st.just(path_parameters),
        # Only the parameters this path has: a seeded set may serve several paths of an app.
        st.sampled_from(known).map(
            lambda real: {
                **path_parameters,
                **{k: v for k, v in real.items() if k in path_parameters},
            }
        ),
    )


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """Half of the time, fill the fields that name other records with values that exist."""
    keys = [k for k in body if k in REAL["body"]] if isinstance(body, dict) else []
    if not keys:
        return st.just(body)
    real = st.fixed_dictionaries({k: st.sampled_from(REAL["body"][k]) for k in keys})
    return st.one_of(st.just(body), real.map(lambda values: {**body, **values}))


def _members_only(context: Any) -> bool:
    return bool(context.operation.definition.raw.get("security"))


def _public(context: Any) -> bool:
    return not _members_only(context)


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The seeded organisations, members, records and signed-in sessions for this module.

    Built once inside a transaction that is rolled back at the end, so no other module sees it;
    every test's own `db` savepoint nests inside it.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_world()
            REAL["path"], REAL["body"] = built.path_parameters, built.body_values
            yield built
        finally:
            REAL["path"], REAL["body"] = {}, {}
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@contextmanager
def _connection_kept_open() -> Iterator[None]:
    """The calls go through the real WSGI handler, whose request signals would close the
    connection holding the test transaction (on PostgreSQL); Django's test client does the same."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def _call(case: schemathesis.Case, world: World, role: str | None) -> None:
    # The CSRF pair goes with every call, so that writes reach the session check (401) or the
    # handler rather than stopping at the CSRF check (403).
    cookies = {"csrftoken": CSRF_TOKEN}
    if role is not None:
        cookies["sessionid"] = world.sessions[role]
    headers = {"X-CSRFToken": CSRF_TOKEN}
    # The hooks above may have put seeded values where the generated (possibly invalid) ones
    # were: assigning the containers again makes schemathesis judge the case as it is sent.
    case.path_parameters = case.path_parameters
    case.body = case.body
    with _connection_kept_open():
        response = case.call(headers=headers, cookies=cookies)
    if not REPORT:
        case.validate_response(response, checks=CHECKS, headers=headers)
        return
    verdicts = {}
    for check in CHECKS:
        try:
            case.validate_response(response, checks=[check], headers=headers)
            verdicts[check.__name__] = None
        except (AssertionError, BaseExceptionGroup) as failure:
            found = failure.exceptions if isinstance(failure, BaseExceptionGroup) else [failure]
            verdicts[check.__name__] = "; ".join(str(f).splitlines()[0][:200] for f in found)
    line = {
        "operation": f"{case.method} {case.operation.path}",
        "role": role,
        "mode": str(case.meta.generation.mode.value) if case.meta else "",
        "status": response.status_code,
        "body": case.body if isinstance(case.body, (dict, list, str, int, float)) else None,
        "query": case.query,
        "path": case.path_parameters,
        "cookies": case.cookies,
        "headers": dict(case.headers or {}),
        "why": case.meta.phase.data.description if case.meta else "",
        "response": response.text[:300],
        "verdicts": verdicts,
    }
    with open(REPORT, "a") as out:
        out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


@schema.include(_public).parametrize()
@FUZZ
def test_public_operations_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """The public operations (directory search, event applications, report links), anonymously."""
    _call(case, world, None)


@schema.include(_members_only).parametrize()
@FEW
def test_members_only_operations_answer_401_without_a_session(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """Every member-only operation without a session: a documented 401/400, never a 5xx."""
    _call(case, world, None)


@schema.include(path_regex=r"^/api/v1/referrals/").parametrize()
@FUZZ
def test_hospital_msw_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """入退院支援 as the hospital's MSW, on cases in every state."""
    _call(case, world, "msw")


@schema.include(
    path_regex=r"^/api/v1/referrals/(requests|unread|cases/\{code\}/(events|handovers|requests)$)"
).parametrize()
@FUZZ
def test_receiving_facility_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """入退院支援 as a receiving facility's staff: the inbox, answers, messages and handovers."""
    _call(case, world, "receiver")


@schema.include(path_regex=r"^/api/v1/(directory/|referrals/(dashboard|surveys))").parametrize()
@FUZZ
def test_municipal_officer_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """The directory (curating the city's facilities) and 効果検証 (the dashboard, surveys) as the
    city."""
    _call(case, world, "officer")


@schema.include(path_regex=r"^/api/v1/desk/").parametrize()
@FUZZ
def test_desk_counselor_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """相談窓口 as the desk's counselor."""
    _call(case, world, "counselor")


@schema.include(path_regex=r"^/api/v1/events/manage/").parametrize()
@FUZZ
def test_events_organiser_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """研修の管理 as a member of the organising body, on past, open and full events."""
    _call(case, world, "organiser")


@schema.include(path_regex=r"^/api/v1/mentoring/").exclude(_public).parametrize()
@FUZZ
def test_mentoring_office_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """同行研修 as the city office that runs the programme, at every stage of the workflow."""
    _call(case, world, "office")


@schema.include(path_regex=r"^/api/v1/care/").parametrize()
@FUZZ
def test_care_team_member_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """在宅ケア as a doctor on the care teams of the demo's patients, second factor passed."""
    _call(case, world, "care")


@schema.include(path_regex=r"^/api/v1/oncall/(rotas|shifts|swaps|now|cooperation)").parametrize()
@FUZZ
def test_oncall_organiser_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """当番表 as the medical association that organises the night rota, and its cooperation
    register."""
    _call(case, world, "oncall")


@schema.include(path_regex=r"^/api/v1/oncall/(patients|absences|cover-searches|now)").parametrize()
@FUZZ
def test_oncall_doctor_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """副主治医 and cover searches as the patients' doctor."""
    _call(case, world, "care")


@schema.include(path_regex=r"^/api/v1/oncall/beds/").parametrize()
@FUZZ
def test_backup_bed_hospital_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """後方ベッド as the hospital's MSW: offers, registrations, exchanges and uses."""
    _call(case, world, "beds")


@schema.include(path_regex=r"^/api/v1/programmes/(surveys|indicators)/").parametrize()
@FUZZ
def test_prefecture_officer_pdca_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """調査・指標 as the prefecture that sends the survey and computes the indicators."""
    _call(case, world, "pdca")


@schema.include(path_regex=r"^/api/v1/programmes/(surveys|indicators)/").parametrize()
@FUZZ
def test_survey_respondent_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """調査・指標 as a city that answers the survey and reads its own indicators."""
    _call(case, world, "respondent")


@schema.include(path_regex=r"^/api/v1/programmes/(?!surveys/|indicators/)").parametrize()
@FUZZ
def test_programme_owner_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """事業管理 as the city that owns its programme table, meetings and issues."""
    _call(case, world, "programmes")


@schema.include(path_regex=r"^/api/v1/courses/").exclude(_public).parametrize()
@FUZZ
def test_course_organiser_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """研修コース and 専門職派遣 as the prefecture that runs the courses and decides dispatches
    (course applicants use the public operations, with real progress tokens, above)."""
    _call(case, world, "courses")


@schema.include(path_regex=r"^/api/v1/courses/dispatch/").exclude(_public).parametrize()
@FUZZ
def test_dispatch_requester_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """専門職派遣 as a city that asks for a specialist, reports and withdraws."""
    _call(case, world, "dispatch")


# Two apps' classes of one name, as two modules would define them.
_NoteOfOneApp = create_model("Note", text=(str, ...))
_NoteOfAnother = create_model("Note", body=(int, ...))


def test_no_two_schemas_of_the_api_share_a_name() -> None:
    """The OpenAPI document keys components by class name: a second schema or enum of the same
    name would silently replace the first, and one app's requests would be documented with
    another's fields (events' and mentoring's ApplicationOut did; then referrals' and oncall's
    AnswerInput and AssignInput, three ConfirmInputs, two Sex enums, and five more pairs as
    oncall, care, pdca and programmes arrived). The API's own document records every clash,
    so every router, including those added later, is covered."""
    document = api.get_openapi_schema()
    assert getattr(document, "clashes", None) == []
    assert "RequestAnswerInput" in document["components"]["schemas"]

    first, second = Router(), Router()

    @first.post("/a")
    def a(request: HttpRequest, payload: _NoteOfOneApp) -> None: ...

    @second.post("/b")
    def b(request: HttpRequest, payload: _NoteOfAnother) -> None: ...

    clashing = RenkeiAPI(urls_namespace="clash-test")
    clashing.add_router("/first/", first)
    clashing.add_router("/second/", second)
    assert getattr(clashing.get_openapi_schema(path_prefix=""), "clashes", None) == ["Note"]


@pytest.mark.parametrize("starts_at", ["0001-01-01T00:00:00+13:01", "9999-12-31T23:59:59-13:00"])
def test_event_times_at_the_ends_of_the_calendar_get_a_400(
    client: Client, db: None, starts_at: str
) -> None:
    """Found by this fuzzing: such a time overflowed on its way to UTC for storage (a 500). Now it
    gets a Japanese message and no event is created."""
    org = make_org("研修主催（テスト）", OrgKind.COORDINATION_CENTER, municipality_code="142158")
    sign_in(client, make_member(org, Role.COUNSELOR, username="calendar-ends").user)
    before = Event.objects.count()
    response = client.post(
        "/api/v1/events/manage/events",
        {"title": "多職種研修会", "starts_at": starts_at},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "2000年〜2100年" in response.json()["detail"]
    assert Event.objects.count() == before


def test_null_on_the_facility_note_clears_it(client: Client, db: None) -> None:
    """Found by this fuzzing: PATCH with "conditions_note": null reached the NOT NULL column (a
    500). null now clears the note, like the other optional fields it is sent with."""
    city = make_org("藤沢市（テスト）", OrgKind.MUNICIPALITY, municipality_code="142051")
    sign_in(client, make_member(city, Role.MUNICIPAL_OFFICER, username="null-note").user)
    facility = make_facility(
        "特養テスト苑",
        municipality_code="142051",
        conditions_note="夜間は要相談",
        accepts_dementia=True,
    )
    response = client.patch(
        f"/api/v1/directory/facilities/{facility.code}",
        {"conditions_note": None, "accepts_dementia": None, "care_level_max": None},
        content_type="application/json",
    )
    assert response.status_code == 200
    facility.refresh_from_db()
    assert (facility.conditions_note, facility.accepts_dementia) == ("", None)


def test_a_topic_id_beyond_the_column_gets_a_400(client: Client, db: None) -> None:
    """Found by this fuzzing: a topic id past 64 bits reached the database lookup (a 500)."""
    desk = make_desk()
    sign_in(client, make_desk_member(desk).user)
    response = client.post(
        f"/api/v1/desk/desks/{desk.code}/consultations",
        {
            "received_at": "2026-04-01T10:00:00+09:00",
            "channel": "phone",
            "asker_type": "family",
            "topics": [2**70],
            "scene": "daily",
            "summary": "訪問看護について",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "topics" in response.json()["detail"]
    assert not Consultation.objects.filter(desk=desk).exists()


def test_nul_characters_and_non_json_bodies_get_a_japanese_400(client: Client, db: None) -> None:
    """Found by this fuzzing on PostgreSQL: a NUL in a text field reached the insert (a 500).
    Every body and query string with a NUL is refused (renkei.lib.badinput), and a body that
    is not JSON gets a Japanese message that says so, instead of Ninja's English one."""
    city = make_org("藤沢市（テスト）", OrgKind.MUNICIPALITY, municipality_code="142051")
    sign_in(client, make_member(city, Role.MUNICIPAL_OFFICER, username="nul-test").user)
    survey = {"title": "所要時間\x00調査", "opens_on": "2026-04-01", "closes_on": "2026-05-01"}
    response = client.post("/api/v1/referrals/surveys", survey, content_type="application/json")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    response = client.post(
        "/api/v1/referrals/surveys", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"] and "NUL" not in response.json()["detail"]
    assert not Survey.objects.filter(owner=city).exists()
    response = client.get("/api/v1/directory/facilities", {"q": "特養\x00"})
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    ['{"title": "所要時間調査"', "{not json", '{"title": "\\u0000"', "[1,", "\ufeff{}x"],
)
def test_a_json_parse_error_says_json_not_nul(client: Client, db: None, body: str) -> None:
    """Issue 17: a body that is not JSON is refused as a JSON error, whatever it contains (an
    escaped NUL that was never decoded included), and nothing is created."""
    city = make_org("藤沢市（テスト）", OrgKind.MUNICIPALITY, municipality_code="142051")
    client.force_login(make_member(city, Role.MUNICIPAL_OFFICER, username="json-error").user)
    response = client.post("/api/v1/referrals/surveys", body, content_type="application/json")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "JSON" in detail and "NUL" not in detail
    assert not Survey.objects.filter(owner=city).exists()


def test_times_of_day_are_japan_time_without_an_offset(client: Client, db: None) -> None:
    """Found by this fuzzing: a rule's time with an offset ("23:08+03:26") was taken as sent,
    and a 201 answered as a tuple was a 500 under the test settings. Now the schema's pattern
    and the server agree: no offset, a Japanese 400, nothing created; a plain time is a 201."""
    org = make_org("県央医師会（テスト）", OrgKind.MEDICAL_ASSOCIATION, municipality_code="142123")
    sign_in(client, make_member(org, Role.DOCTOR, username="rota-times"))
    created = client.post("/api/v1/oncall/rotas", {"name": "夜間当番"}, "application/json")
    assert created.status_code == 201
    code = created.json()["code"]
    rules = f"/api/v1/oncall/rotas/{code}/rules"
    rule = {"day_type": "weekday", "label": "夜間", "start": "19:00", "end": "08:00"}
    for bad in ("19:00:00+03:26", "19:00:00Z"):
        response = client.post(rules, {**rule, "start": bad}, "application/json")
        assert response.status_code == 400
        assert "時差" in response.json()["detail"]
    # This rota's: the module's seeded world may hold other rotas' rules.
    assert not ShiftRule.objects.filter(rota__code=code).exists()
    assert client.post(rules, rule, "application/json").status_code == 201


def test_the_schema_states_the_rules_the_server_applies() -> None:
    """Found by this fuzzing as "rejected valid" requests: each rule below was the server's
    alone. Now the schema says it, so generated clients send what the server takes."""
    doc = api.get_openapi_schema()
    schemas = doc["components"]["schemas"]
    month = doc["paths"]["/api/v1/oncall/rotas/{code}/months/{month}"]["get"]["parameters"][1]
    assert re.fullmatch(month["schema"]["pattern"].strip("^$"), "2026-12")
    assert not re.search(month["schema"]["pattern"], "2026-13")
    assert schemas["MonthInput"]["properties"]["month"]["pattern"] == month["schema"]["pattern"]
    kana = schemas["NewPatientInput"]["properties"]["kana"]["pattern"]
    assert (
        re.search(kana, "みほん ハナコ")
        and not re.search(kana, "見本")
        and not re.search(kana, " ")
    )
    for content in ("AdmissionContent", "DischargeContent", "DoctorNoteContent"):
        assert "kind" in schemas[content]["required"]
    parent = schemas["BodyInput"]["properties"]["parent"]["pattern"]
    assert re.search(parent, "") and re.search(parent, str(uuid.uuid4()))
    assert not re.search(parent, "cache")
    assert schemas["SpecialistInput"]["properties"]["weekdays"]["uniqueItems"] is True
    start = schemas["RuleInput"]["properties"]["start"]["pattern"]
    assert re.search(start, "19:00") and not re.search(start, "19:00+09:00")
