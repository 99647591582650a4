"""The part of the fuzz world for 在宅ケア (care), 当番・副主治医・後方ベッド (oncall), 調査・指標
(pdca, under /programmes/surveys and /programmes/indicators), 事業管理 (programmes) and 研修コース
(courses): the demo's own seeds for those apps, the logins that use them, and the path parameter
sets that name their records, so that the signed-in fuzzing reaches past 404 into the actions."""

from __future__ import annotations

from typing import Any

from renkei.accounts.models import Membership
from renkei.care.models import CareTeamMember, Consent, Patient, Post, SharedForm
from renkei.demo.care import seed_care
from renkei.demo.oncall import seed_beds, seed_cover, seed_oncall
from renkei.demo.pdca import seed_pdca
from renkei.demo.programmes import seed_programmes
from renkei.oncall.models import (
    BackupBedOffer,
    BackupBedRegistration,
    CooperatingInstitution,
    CoverSearch,
    Rota,
    RotaMonth,
    Shift,
    SwapRequest,
)
from renkei.pdca.models import ComputeRun, Response, Survey
from renkei.programmes.models import (
    Countermeasure,
    Issue,
    Meeting,
    MeetingBody,
    ProgrammeLine,
    ProgrammeTable,
)

# Role in the fuzz world -> the demo login that plays it.
LOGINS = {
    "care": "care-doctor",  # a care-team member (a doctor with patients, second factor passed)
    "oncall": "ishikai",  # the medical association that organises the night rota
    "beds": "beds-msw",  # the hospital's MSW that offers backup beds
    "pdca": "pref-kanagawa",  # the prefecture that sends the survey and reads the indicators
    "respondent": "kenou-142182",  # a city that answers the survey
    "programmes": "programmes-city",  # the city that owns its programme table and meetings
    "dispatch": "dispatch-atsugi",  # a city that asks for a specialist
}


def seed_apps() -> dict[str, Membership]:
    """Seed the apps (after the demo region and the older apps' seeds) and return the logins."""
    seed_care()
    seed_oncall()
    seed_cover()
    seed_beds()
    seed_pdca()
    seed_programmes()
    return {
        role: Membership.objects.get(user__username=username, is_active=True)
        for role, username in LOGINS.items()
    }


def _codes(queryset: Any, name: str = "code") -> list[dict[str, str]]:
    return [{name: str(c)} for c in queryset.order_by("pk").values_list("code", flat=True)[:6]]


def app_rules(members: dict[str, Membership]) -> list[tuple[str, list[dict[str, str]]]]:
    """(path regex under /api/v1, parameter sets) for the apps above; a set may name more
    parameters than one path has (the fuzz hook keeps only the path's own)."""
    doctor = members["care"]
    patients = []
    for p in Patient.objects.filter(team__membership=doctor).distinct().order_by("pk"):
        member = CareTeamMember.objects.filter(patient=p).order_by("pk").first()
        consent = Consent.objects.filter(patient=p).order_by("pk").first()
        post = Post.objects.filter(patient=p).order_by("pk").first()
        form = SharedForm.objects.filter(patient=p).order_by("pk").first()
        patients.append(
            {
                "code": str(p.code),
                **({"member_id": str(member.pk)} if member else {}),
                **({"consent": str(consent.code)} if consent else {}),
                **({"post": str(post.code)} if post else {}),
                **({"form": str(form.code)} if form else {}),
            }
        )
    invitations = [
        {"invitation_id": str(pk)}
        for pk in CareTeamMember.objects.order_by("pk").values_list("pk", flat=True)[:6]
    ]
    months = [
        {"code": str(rm.rota.code), "month": f"{rm.month:%Y-%m}"}
        for rm in RotaMonth.objects.select_related("rota").order_by("pk")[:4]
    ]
    return [
        (r"/care/patients/\{code\}", patients),
        (r"/care/invitations/\{invitation_id\}", invitations),
        (r"/oncall/rotas/\{code\}/months/\{month\}", months),
        (r"/oncall/rotas/\{code\}", _codes(Rota.objects)),
        (r"/oncall/shifts/\{code\}", _codes(Shift.objects)),
        (r"/oncall/swaps/\{code\}", _codes(SwapRequest.objects)),
        (r"/oncall/patients/\{code\}", [{"code": p["code"]} for p in patients]),
        (r"/oncall/beds/offers/\{code\}", _codes(BackupBedOffer.objects)),
        (r"/oncall/beds/registrations/\{code\}", _codes(BackupBedRegistration.objects)),
        (r"/oncall/cooperation/\{code\}", _codes(CooperatingInstitution.objects)),
        (r"/oncall/cover-searches/\{code\}", _codes(CoverSearch.objects)),
        (r"/programmes/surveys/responses/\{code\}", _codes(Response.objects)),
        (r"/programmes/surveys/\{code\}", _codes(Survey.objects)),
        (
            r"/programmes/indicators/municipalities/\{code\}",
            [{"code": "142182"}, {"code": "142123"}],
        ),
        (r"/programmes/indicators/runs/\{code\}", _codes(ComputeRun.objects)),
        (r"/programmes/tables/\{code\}", _codes(ProgrammeTable.objects)),
        (r"/programmes/lines/\{code\}", _codes(ProgrammeLine.objects)),
        (r"/programmes/bodies/\{code\}", _codes(MeetingBody.objects)),
        (r"/programmes/meetings/\{code\}", _codes(Meeting.objects)),
        (r"/programmes/issues/\{code\}", _codes(Issue.objects)),
        (r"/programmes/countermeasures/\{code\}", _codes(Countermeasure.objects)),
    ]
