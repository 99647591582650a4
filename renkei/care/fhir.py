"""FHIR R4B for care-team sharing at /api/fhir/ (issue 13 §6, ADR 0014).

Patient (JP Core shape), CareTeam, Consent, Communication (a thread's header and its replies
through `partOf`), Task (reply requests and read receipts), DocumentReference (the shared
forms) and AuditEvent (who read the record). Signed-in members with the second factor only,
scoped exactly like the screens (`Patient.objects.visible_to`): anyone else gets a 404
OperationOutcome. Every read is audited with the patient's code. Resources are validated by
`fhir.resources` before they leave.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.task import Task

from renkei.accounts.models import AuditEntry, Membership
from renkei.care.access import verified
from renkei.care.actions import forms as fa
from renkei.care.actions.patients import audit_read, list_patients
from renkei.care.models import (
    CareTeamMember,
    Consent,
    ConsentScope,
    Patient,
    Post,
    PostRead,
    SharedForm,
)

CONTENT_TYPE = "application/fhir+json; charset=utf-8"
JP_PATIENT = "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient"
EN_REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
SYSTEM_UUID = "urn:ietf:rfc:3986"
# No national system for the 介護保険 被保険者番号 was found in JP Core 1.1.2: our own URI.
SYSTEM_LTCI = "urn:renkei:identifier:ltci-insured-number"
SYSTEM_TEAM_ROLE = "urn:renkei:codesystem:care-team-role"
SYSTEM_CATEGORY = "urn:renkei:codesystem:timeline-category"
SYSTEM_TASK = "urn:renkei:codesystem:care-task"
SYSTEM_FORM = "urn:renkei:codesystem:shared-form"
SYSTEM_ORGANIZATION = "urn:renkei:organization"
MAX_COUNT = 100
GENDER = {"male": "male", "female": "female", "other": "other", "unknown": "unknown"}

PATIENT_PARAMS = [("_count", "number", "件数（1〜100）")]
BY_PATIENT = [
    ("patient", "reference", "患者（Patient/{id}）。必須"),
    ("_count", "number", "件数（1〜100）"),
]
BY_SUBJECT = [
    ("subject", "reference", "患者（Patient/{id}）。subject か patient のどちらかが必須"),
    *BY_PATIENT,
]
# For the CapabilityStatement at /api/fhir/metadata (registered in CareConfig.ready).
RESOURCES: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("Patient", PATIENT_PARAMS),
    ("CareTeam", BY_PATIENT),
    ("Consent", BY_PATIENT),
    ("Communication", BY_SUBJECT),
    ("Task", BY_SUBJECT),
    ("DocumentReference", BY_SUBJECT),
    ("AuditEvent", BY_PATIENT),
]


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# Responses ----------------------------------------------------------------------------


def _fhir(resource: Any, status: int = 200) -> HttpResponse:
    response = HttpResponse(resource.model_dump_json(), content_type=CONTENT_TYPE, status=status)
    response["Cache-Control"] = "no-store"
    return response


def outcome(status: int, code: str, message: str) -> HttpResponse:
    issue = {
        "severity": "error",
        "code": code,
        "diagnostics": message,
        "details": {"text": message},
    }
    return _fhir(OperationOutcome.model_validate({"issue": [issue]}), status)


def _iso(value: Any) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def _bundle(request: HttpRequest, kind: str, resources: list[Any]) -> Bundle:
    base = request.build_absolute_uri("/api/fhir/")
    return Bundle.model_validate(
        {
            "id": str(uuid.uuid4()),
            "type": "searchset",
            "timestamp": timezone.now().isoformat(),
            "total": len(resources),
            "link": [{"relation": "self", "url": request.build_absolute_uri()}],
            "entry": [
                {
                    "fullUrl": f"{base}{type(r).__name__.replace('Fhir', '')}/{r.id}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in resources
            ],
        }
    )


def _org(org: Any) -> dict[str, Any]:
    return {
        "identifier": {"system": SYSTEM_ORGANIZATION, "value": str(org.code)},
        "display": org.name,
    }


def _person(m: Membership) -> dict[str, Any]:
    return {"display": f"{m.user}（{m.organization.name}）"}


# Resources ----------------------------------------------------------------------------


def _names(name: str, kana: str) -> list[dict[str, Any]]:
    def one(text: str, representation: str) -> dict[str, Any]:
        parts = text.replace("\u3000", " ").split()
        body: dict[str, Any] = {
            "extension": [{"url": EN_REPRESENTATION, "valueCode": representation}],
            "use": "official",
            "text": text,
        }
        if len(parts) >= 2:
            body["family"], body["given"] = parts[0], parts[1:]
        return body

    return [one(name, "IDE"), *([one(kana, "SYL")] if kana else [])]


def patient_resource(p: Patient) -> FhirPatient:
    identifiers = [{"system": SYSTEM_UUID, "value": f"urn:uuid:{p.code}"}]
    if p.insured_number:
        identifiers.append({"system": SYSTEM_LTCI, "value": p.insured_number})
    body: dict[str, Any] = {
        "id": str(p.code),
        "meta": {"profile": [JP_PATIENT], "lastUpdated": _iso(p.updated_at)},
        "identifier": identifiers,
        "name": _names(p.name, p.kana),
        "gender": GENDER.get(p.sex, "unknown"),
        "birthDate": p.birth_date.isoformat(),
        "managingOrganization": _org(p.owner),
    }
    if p.phone:
        body["telecom"] = [{"system": "phone", "value": p.phone, "use": "home"}]
    if p.address:
        body["address"] = [{"use": "home", "text": p.address, "country": "JP"}]
    return FhirPatient.model_validate(body)


def care_team_resource(p: Patient, rows: list[CareTeamMember]) -> CareTeam:
    """The patient's one team; its id is the patient's (one team per patient)."""
    participants = []
    for r in rows:
        period: dict[str, Any] = {"start": r.start_date.isoformat()}
        if r.end_date:
            period["end"] = r.end_date.isoformat()
        participants.append(
            {
                "role": [
                    {
                        "coding": [
                            {
                                "system": SYSTEM_TEAM_ROLE,
                                "code": r.team_role,
                                "display": r.get_team_role_display(),
                            }
                        ],
                        "text": r.get_team_role_display(),
                    }
                ],
                "member": {"display": str(r.membership.user)},
                "onBehalfOf": _org(r.membership.organization),
                "period": period,
            }
        )
    return CareTeam.model_validate(
        {
            "id": str(p.code),
            "status": "active",
            "name": "ケアチーム",
            "subject": {"reference": f"Patient/{p.code}"},
            "participant": participants or None,
            "managingOrganization": [_org(p.owner)],
        }
    )


CONSENT_SHAPE = {
    ConsentScope.ALL: "一括（チームの全組織）",
    ConsentScope.ORGANIZATIONS: "施設リスト",
    ConsentScope.PEOPLE: "個人",
}


def consent_resource(c: Consent) -> FhirConsent:
    actors: list[dict[str, Any]] = []
    role = {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "code": "IRCP",
                "display": "information recipient",
            }
        ]
    }
    if c.scope == ConsentScope.ORGANIZATIONS:
        actors = [{"role": role, "reference": _org(o)} for o in c.organizations.all()]
    elif c.scope == ConsentScope.PEOPLE:
        actors = [{"role": role, "reference": {"display": str(u)}} for u in c.people.all()]
    period: dict[str, Any] = {"start": c.valid_from.isoformat()}
    if c.valid_until:
        period["end"] = c.valid_until.isoformat()
    provision: dict[str, Any] = {"type": "permit", "period": period}
    if actors:
        provision["actor"] = actors
    return FhirConsent.model_validate(
        {
            "id": str(c.code),
            "status": "active" if c.is_active() else "inactive",
            "scope": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "patient-privacy",
                    }
                ]
            },
            "category": [
                {
                    "coding": [{"system": "http://loinc.org", "code": "59284-0"}],
                    "text": f"情報共有の同意（{CONSENT_SHAPE[ConsentScope(c.scope)]}）",
                }
            ],
            "patient": {"reference": f"Patient/{c.patient.code}"},
            "dateTime": _iso(c.recorded_at),
            "performer": [{"display": c.given_by}],
            "organization": [_org(c.patient.owner)],
            "policyRule": {"text": f"個人情報保護法に基づく本人同意。利用目的: {c.purpose}"},
            "provision": provision,
        }
    )


def communication_resource(post: Post, patient: Patient) -> Communication:
    body: dict[str, Any] = {
        "id": str(post.code),
        "status": "completed",
        "category": [
            {
                "coding": [
                    {
                        "system": SYSTEM_CATEGORY,
                        "code": post.category,
                        "display": post.get_category_display(),
                    }
                ]
            }
        ],
        "subject": {"reference": f"Patient/{patient.code}"},
        "sent": _iso(post.created_at),
        "sender": _person(post.author),
        "payload": [{"contentString": post.body}],
    }
    if post.parent_id:
        body["partOf"] = [{"reference": f"Communication/{post.parent.code}"}]  # type: ignore[union-attr]
    return Communication.model_validate(body)


def reply_task(post: Post, patient: Patient, replied: bool) -> Task:
    """A "please reply" request on a post: requested until someone replies."""
    return Task.model_validate(
        {
            "id": str(post.code),
            "status": "completed" if replied else "requested",
            "intent": "order",
            "code": {
                "coding": [
                    {"system": SYSTEM_TASK, "code": "reply-request", "display": "返信の依頼"}
                ]
            },
            "focus": {"reference": f"Communication/{post.code}"},
            "for": {"reference": f"Patient/{patient.code}"},
            "authoredOn": _iso(post.created_at),
            "requester": _person(post.author),
            "restriction": {"period": {"end": post.reply_due.isoformat()}},  # type: ignore[union-attr]
        }
    )


def receipt_id(read: PostRead) -> str:
    return f"receipt-{read.pk}"


def receipt_task(read: PostRead, patient: Patient) -> Task:
    """A read receipt: who saw a post, and when."""
    return Task.model_validate(
        {
            "id": receipt_id(read),
            "status": "completed",
            "intent": "order",
            "code": {
                "coding": [{"system": SYSTEM_TASK, "code": "read-receipt", "display": "既読"}]
            },
            "focus": {"reference": f"Communication/{read.post.code}"},
            "for": {"reference": f"Patient/{patient.code}"},
            "lastModified": _iso(read.read_at),
            "owner": {"display": str(read.user)},
        }
    )


def document_resource(request: HttpRequest, form: SharedForm) -> DocumentReference:
    url = request.build_absolute_uri(
        reverse("care:form_print", args=[form.patient.code, form.code])
    )
    body: dict[str, Any] = {
        "id": str(form.code),
        "status": "current",
        "docStatus": "final" if form.sent_at else "preliminary",
        "type": {
            "coding": [
                {"system": SYSTEM_FORM, "code": form.kind, "display": form.get_kind_display()}
            ],
            "text": form.get_kind_display(),
        },
        "subject": {"reference": f"Patient/{form.patient.code}"},
        "date": _iso(form.sent_at or form.created_at),
        "author": [_org(form.sender)],
        "custodian": _org(form.sender),
        "content": [
            {
                "attachment": {
                    "contentType": "text/html",
                    "url": url,
                    "title": f"{form.get_kind_display()}（第{form.version}版）",
                }
            }
        ],
    }
    if form.recipient:
        body["context"] = {"related": [_org(form.recipient)]}
    return DocumentReference.model_validate(body)


def audit_event(entry: AuditEntry) -> AuditEvent:
    who = entry.actor_label or (str(entry.actor) if entry.actor else "不明")
    if entry.organization:
        who = f"{who}（{entry.organization.name}）"
    return AuditEvent.model_validate(
        {
            "id": str(entry.pk),
            "type": {
                "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
                "code": "rest",
                "display": "RESTful Operation",
            },
            "action": "R",
            "recorded": _iso(entry.at),
            "outcome": "0",
            "agent": [{"who": {"display": who}, "requestor": True}],
            "source": {"observer": {"display": "Renkei"}},
            "entity": [
                {
                    "what": {"reference": f"Patient/{entry.target_id}"},
                    "description": str((entry.detail or {}).get("what", "")),
                }
            ],
        }
    )


# Access -----------------------------------------------------------------------------------


def _member(request: HttpRequest) -> Membership:
    if not request.user.is_authenticated:
        raise Refused(401, "login", "ログインが必要です")
    # /api/fhir/ is outside the two-factor middleware (the public directory feed); patient
    # data asks for the second factor itself, whatever the role's policy says (ADR 0032).
    if not verified(request):
        raise Refused(401, "login", "患者情報を扱うには二要素認証を完了してください")
    m: Membership | None = getattr(request, "membership", None)
    if m is None:
        raise Refused(403, "forbidden", "所属組織のある利用者だけが利用できます")
    return m


def _patient(m: Membership, raw: str) -> Patient:
    try:
        code = uuid.UUID(raw.removeprefix("Patient/"))
    except ValueError:
        raise Refused(404, "not-found", f"Patient/{raw[:60]} は見つかりません") from None
    p = Patient.objects.visible_to(m).select_related("owner").filter(code=code).first()
    if p is None:
        raise Refused(404, "not-found", f"Patient/{code} は見つかりません")
    return p


def _count(request: HttpRequest) -> int:
    raw = request.GET.get("_count", "")
    if not raw:
        return MAX_COUNT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise Refused(400, "invalid", f"_count は1〜{MAX_COUNT}で指定してください")
    return int(raw)


def _subject(request: HttpRequest, m: Membership, names: tuple[str, ...]) -> Patient:
    given = [request.GET[n] for n in names if request.GET.get(n)]
    if not given:
        raise Refused(
            400, "required", f"{' または '.join(names)} で患者を指定してください（Patient/{{id}}）"
        )
    if len(set(given)) > 1:
        raise Refused(400, "invalid", "subject と patient が別の患者を指しています")
    return _patient(m, given[0])


View = Callable[..., HttpResponse]


def fhir_view(view: Callable[..., HttpResponse]) -> View:
    """GET/HEAD only; refusals become OperationOutcomes (bad input never a 500)."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            m = _member(request)
            return view(request, m, *args, **kwargs)
        except Refused as e:
            return outcome(e.status, e.code, e.message)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return require_safe(wrapper)


def _read(request: HttpRequest, p: Patient, m: Membership, what: str) -> None:
    audit_read(p, by=m, what=f"fhir:{what}", request=request)


# Views ------------------------------------------------------------------------------------


@fhir_view
def patient_read(request: HttpRequest, m: Membership, id: str) -> HttpResponse:
    p = _patient(m, id)
    _read(request, p, m, "Patient")
    return _fhir(patient_resource(p))


@fhir_view
def patient_search(request: HttpRequest, m: Membership) -> HttpResponse:
    count = _count(request)
    patients = list_patients(by=m, request=request)[:count]  # audited as a list
    for p in patients:
        p.owner  # noqa: B018 - loaded for managingOrganization
    return _fhir(_bundle(request, "Patient", [patient_resource(p) for p in patients]))


def _team(p: Patient) -> list[CareTeamMember]:
    return list(p.current_team())


@fhir_view
def care_team_read(request: HttpRequest, m: Membership, id: str) -> HttpResponse:
    p = _patient(m, id)
    _read(request, p, m, "CareTeam")
    return _fhir(care_team_resource(p, _team(p)))


@fhir_view
def care_team_search(request: HttpRequest, m: Membership) -> HttpResponse:
    _count(request)
    p = _subject(request, m, ("patient", "subject"))
    _read(request, p, m, "CareTeam")
    return _fhir(_bundle(request, "CareTeam", [care_team_resource(p, _team(p))]))


def _consents(p: Patient) -> QuerySet[Consent]:
    return (
        Consent.objects.filter(patient=p)
        .select_related("patient__owner")
        .prefetch_related("organizations", "people")
    )


def _visible_patient_of(m: Membership, qs: QuerySet[Any], id: str, kind: str) -> Any:
    try:
        code = uuid.UUID(id)
    except ValueError:
        raise Refused(404, "not-found", f"{kind}/{id[:60]} は見つかりません") from None
    found = qs.filter(code=code, patient__in=Patient.objects.visible_to(m)).first()
    if found is None:
        raise Refused(404, "not-found", f"{kind}/{code} は見つかりません")
    return found


@fhir_view
def consent_read(request: HttpRequest, m: Membership, id: str) -> HttpResponse:
    c = _visible_patient_of(m, Consent.objects.select_related("patient__owner"), id, "Consent")
    _read(request, c.patient, m, "Consent")
    return _fhir(consent_resource(c))


@fhir_view
def consent_search(request: HttpRequest, m: Membership) -> HttpResponse:
    count = _count(request)
    p = _subject(request, m, ("patient",))
    _read(request, p, m, "Consent")
    return _fhir(_bundle(request, "Consent", [consent_resource(c) for c in _consents(p)[:count]]))


def _posts(p: Patient) -> QuerySet[Post]:
    return (
        Post.objects.filter(patient=p)
        .select_related("author__user", "author__organization", "parent")
        .order_by("-created_at", "-pk")
    )


@fhir_view
def communication_read(request: HttpRequest, m: Membership, id: str) -> HttpResponse:
    post = _visible_patient_of(
        m,
        Post.objects.select_related("patient", "author__user", "author__organization", "parent"),
        id,
        "Communication",
    )
    _read(request, post.patient, m, "Communication")
    return _fhir(communication_resource(post, post.patient))


@fhir_view
def communication_search(request: HttpRequest, m: Membership) -> HttpResponse:
    count = _count(request)
    p = _subject(request, m, ("subject", "patient"))
    _read(request, p, m, "Communication")
    found = [communication_resource(post, p) for post in _posts(p)[:count]]
    return _fhir(_bundle(request, "Communication", found))


def _tasks(p: Patient, count: int) -> list[Task]:
    requests = list(_posts(p).filter(reply_due__isnull=False)[:count])
    replied = set(
        Post.objects.filter(parent__in=requests).values_list("parent_id", flat=True).distinct()
    )
    tasks = [reply_task(post, p, post.pk in replied) for post in requests]
    reads = (
        PostRead.objects.filter(post__patient=p)
        .select_related("post", "user")
        .order_by("-read_at", "-pk")[: max(0, count - len(tasks))]
    )
    return tasks + [receipt_task(r, p) for r in reads]


def task_read_or_none(request: HttpRequest, id: str) -> HttpResponse | None:
    """Care's Task by id — a reply request (the post's id) or a read receipt
    (`receipt-<n>`) — or None when it is not one the caller may read as care's: the URL
    configuration then asks the placement network's Task, whose own rules answer (so its
    callers see what they saw before care served Tasks)."""
    try:
        m = _member(request)
    except Refused:
        return None
    visible = Patient.objects.visible_to(m)
    if id.startswith("receipt-"):
        pk = id.removeprefix("receipt-")
        read = (
            PostRead.objects.filter(
                pk=int(pk) if pk.isdigit() and len(pk) < 12 else 0, post__patient__in=visible
            )
            .select_related("post__patient", "user")
            .first()
        )
        if read is None:
            return outcome(404, "not-found", f"Task/{id[:40]} は見つかりません")
        _read(request, read.post.patient, m, "Task")
        return _fhir(receipt_task(read, read.post.patient))
    code = _uuid_or_none(id)
    post = (
        Post.objects.filter(code=code, reply_due__isnull=False, patient__in=visible)
        .select_related("patient", "author__user", "author__organization")
        .first()
        if code
        else None
    )
    if post is None:
        return None
    _read(request, post.patient, m, "Task")
    replied = Post.objects.filter(parent=post).exists()
    return _fhir(reply_task(post, post.patient, replied))


@fhir_view
def task_search(request: HttpRequest, m: Membership) -> HttpResponse:
    count = _count(request)
    p = _subject(request, m, ("subject", "patient"))
    _read(request, p, m, "Task")
    return _fhir(_bundle(request, "Task", _tasks(p, count)))


def _forms(m: Membership) -> QuerySet[SharedForm]:
    return (
        SharedForm.objects.for_org(m)
        .filter(patient__in=Patient.objects.visible_to(m))
        .select_related("patient", "sender", "recipient")
    )


@fhir_view
def document_read(request: HttpRequest, m: Membership, id: str) -> HttpResponse:
    form = _visible_patient_of(m, _forms(m), id, "DocumentReference")
    fa.view_form(form, by=m, request=request)  # audited; the recipient's read receipt
    return _fhir(document_resource(request, form))


@fhir_view
def document_search(request: HttpRequest, m: Membership) -> HttpResponse:
    count = _count(request)
    p = _subject(request, m, ("subject", "patient"))
    _read(request, p, m, "DocumentReference")
    found = [document_resource(request, f) for f in _forms(m).filter(patient=p)[:count]]
    return _fhir(_bundle(request, "DocumentReference", found))


def _entries(p: Patient) -> QuerySet[AuditEntry]:
    return (
        AuditEntry.objects.filter(
            target_type="care.Patient", target_id=str(p.code), action="care.patient_viewed"
        )
        .select_related("actor", "organization")
        .order_by("-at", "-id")
    )


@fhir_view
def audit_event_read(request: HttpRequest, m: Membership, id: str) -> HttpResponse:
    entry = (
        AuditEntry.objects.filter(
            pk=int(id) if id.isdigit() and len(id) < 12 else 0,
            target_type="care.Patient",
            action="care.patient_viewed",
        )
        .select_related("actor", "organization")
        .first()
    )
    if entry is None:
        raise Refused(404, "not-found", f"AuditEvent/{id[:20]} は見つかりません")
    try:
        p = _patient(m, entry.target_id)  # the entry's patient must be visible
    except Refused:
        raise Refused(404, "not-found", f"AuditEvent/{id[:20]} は見つかりません") from None
    _read(request, p, m, "AuditEvent")
    return _fhir(audit_event(entry))


def _uuid_or_none(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


@fhir_view
def audit_event_search(request: HttpRequest, m: Membership) -> HttpResponse:
    count = _count(request)
    p = _subject(request, m, ("patient", "entity"))
    entries = list(_entries(p)[:count])  # before this read's own row
    _read(request, p, m, "AuditEvent")
    return _fhir(_bundle(request, "AuditEvent", [audit_event(e) for e in entries]))
