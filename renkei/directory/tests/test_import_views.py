from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, OrgKind, Role
from renkei.directory import imports
from renkei.directory.jobs import sweep_stalled_imports
from renkei.directory.models import Facility, ImportRun
from renkei.testing import make_member, make_org, sign_in

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "opendata" / "jigyosho_430.csv"


@pytest.fixture(autouse=True)
def _synchronous_imports(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def operator() -> Membership:
    return make_member(make_org("運営事務局", OrgKind.OPERATOR), Role.ADMIN, username="op")


@pytest.fixture
def yokohama() -> Membership:
    org = make_org("横浜市", OrgKind.MUNICIPALITY, municipality_code="141003")
    return make_member(org, Role.MUNICIPAL_OFFICER, username="yokohama")


def login(client: Client, membership: Membership) -> Client:
    sign_in(client, membership.user)
    return client


def upload(client: Client, path: Path = SAMPLE, **extra: str) -> Any:
    f = SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")
    # The queued import runs once the upload's transaction commits (the immediate backend).
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("directory:imports"), {"file": f, "format": "auto", **extra})


def test_anonymous_visitors_are_sent_to_login(client: Client) -> None:
    """Both pages redirect anonymous visitors to the login page."""
    run = ImportRun.objects.create(filename="x.csv")
    for url in (reverse("directory:imports"), reverse("directory:import_detail", args=[run.code])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_facility_members_get_404(client: Client) -> None:
    """Members of a hospital cannot see or use the import pages at all."""
    member = make_member(make_org("さくら病院", OrgKind.HOSPITAL, municipality_code="142051"))
    run = ImportRun.objects.create(filename="x.csv", organization=member.organization)
    login(client, member)
    assert client.get(reverse("directory:imports")).status_code == 404
    assert upload(client).status_code == 404
    assert client.get(reverse("directory:import_detail", args=[run.code])).status_code == 404
    assert not Facility.objects.exists()


def test_operator_upload_imports_records_and_audits(client: Client, operator: Membership) -> None:
    """An operator's upload is stored under MEDIA_ROOT/imports/, imported, shown with its
    counts and audited at start and finish."""
    from django.conf import settings

    login(client, operator)
    assert client.get(reverse("directory:imports")).status_code == 200
    response = upload(client, source_date="2026-06-30")
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("directory:import_detail", args=[run.code])
    assert (run.status, run.format, run.created, run.total_rows) == ("done", "kaigo", 40, 40)
    assert (run.organization, run.started_by) == (operator.organization, operator.user)
    assert (
        Path(settings.MEDIA_ROOT) / "imports" / f"{run.code}.csv"
    ).read_bytes() == SAMPLE.read_bytes()
    assert Facility.objects.filter(source_date="2026-06-30").count() == 40
    actions = list(
        AuditEntry.objects.filter(action__startswith="directory.import")
        .order_by("id")
        .values_list("action", "actor", "target_id")
    )
    assert actions == [
        ("directory.import_started", operator.user.pk, str(run.code)),
        ("directory.import_finished", operator.user.pk, str(run.code)),
    ]
    page = client.get(response["Location"])
    body = page.content.decode()
    assert "取込が完了しました" in body
    assert "21行目" in body  # a row without coordinates, reported as a note
    assert 'hx-trigger="every 1s"' not in body
    history = client.get(reverse("directory:imports")).content.decode()
    assert "jigyosho_430.csv" in history


def test_municipal_upload_imports_only_its_own_area(client: Client, yokohama: Membership) -> None:
    """A city's upload of a prefecture-wide file creates only the city's facilities."""
    login(client, yokohama)
    upload(client)
    run = ImportRun.objects.get()
    assert run.created == 1
    assert set(Facility.objects.values_list("municipality__code", flat=True)) == {"141003"}
    assert "管轄外のため対象外 39" in run.message


def test_refused_upload_shows_the_reason(client: Client, operator: Membership) -> None:
    """A truncated file is refused whole; the detail page says why and nothing was imported."""
    login(client, operator)
    response = upload(client, DATA / "bad" / "truncated.csv")
    body = client.get(response["Location"]).content.decode()
    assert "取込不可" in body
    assert "6行目の列数が3列で、見出しの24列と合いません" in body
    assert not Facility.objects.exists()


def test_invalid_form_is_answered_with_400(client: Client, operator: Membership) -> None:
    """No file, or a file that is not CSV/ZIP, is rejected by the form with a message."""
    login(client, operator)
    assert client.post(reverse("directory:imports"), {"format": "auto"}).status_code == 400
    f = SimpleUploadedFile(
        "facilities.xlsx", b"PK\x03\x04", content_type="application/octet-stream"
    )
    response = client.post(reverse("directory:imports"), {"file": f, "format": "auto"})
    assert response.status_code == 400
    assert (
        "CSV ファイル（.csv）または ZIP ファイル（.zip）を指定してください。"
        in response.content.decode()
    )
    assert not ImportRun.objects.exists()


def test_progress_partial_polls_until_finished(client: Client, yokohama: Membership) -> None:
    """While running, the htmx partial shows a progress bar and polls every second; once
    finished it stops polling and shows the report."""
    run = ImportRun.objects.create(
        filename="big.csv",
        organization=yokohama.organization,
        status=ImportRun.Status.RUNNING,
        total_rows=250_000,
        processed_rows=100_000,
    )
    login(client, yokohama)
    url = reverse("directory:import_detail", args=[run.code])
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in partial
    assert 'value="40"' in partial and "100,000 / 250,000 行（40%）" in partial
    assert "<html" not in partial
    full = client.get(url).content.decode()
    assert "<html" in full and 'hx-trigger="every 1s"' in full

    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.DONE, processed_rows=250_000, unchanged=250_000
    )
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' not in partial
    assert "取込が完了しました" in partial


def test_report_is_paginated_and_downloadable(client: Client, operator: Membership) -> None:
    """The page lists 100 reports at a time; the CSV download has all of them."""
    errors = [
        {"line": n, "key": f"14{n:08d}", "reason": f"理由{n}", "level": "rejected"}
        for n in range(2, 252)
    ]
    run = ImportRun.objects.create(
        filename="x.csv", status=ImportRun.Status.DONE, rejected=250, errors=errors
    )
    login(client, operator)
    url = reverse("directory:import_detail", args=[run.code])
    first = client.get(url).content.decode()
    assert "101行目" in first and "102行目" not in first
    assert "理由102" in client.get(url, {"page": 2}).content.decode()
    download = client.get(url, {"download": "errors"})
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    lines = download.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "行,区分,事業所番号・ID,内容"
    assert len(lines) == 251 and lines[1] == "2,不採用,1400000002,理由2"


def test_runs_of_other_organisations_are_hidden(client: Client, yokohama: Membership) -> None:
    """A city sees only its own runs; another city's run is a 404 for it."""
    kawasaki = make_org("川崎市", OrgKind.MUNICIPALITY, municipality_code="141305")
    theirs = ImportRun.objects.create(filename="kawasaki.csv", organization=kawasaki)
    login(client, yokohama)
    assert client.get(reverse("directory:import_detail", args=[theirs.code])).status_code == 404
    assert "kawasaki.csv" not in client.get(reverse("directory:imports")).content.decode()


def test_background_import_starts_after_commit(
    settings: Any, operator: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    """With background imports on, the upload returns with the run queued and the import is
    scheduled for after the transaction commits (the thread itself is not started here)."""
    settings.JOBS_IMMEDIATE_THREADS = True
    f = SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = imports.start_import(f, membership=operator)
    assert len(callbacks) == 1
    assert ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.QUEUED
    assert not Facility.objects.exists()


def test_an_import_whose_server_stopped_is_shown_as_interrupted(
    client: Client, yokohama: Membership, settings: Any
) -> None:
    """A run left 取込中 by a server restart (no progress for DIRECTORY_IMPORT_STALL_SECONDS)
    becomes エラー with how far it got; runs that report progress, and finished ones, stay."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.DIRECTORY_IMPORT_STALL_SECONDS + 5)
    org = yokohama.organization
    dead = ImportRun.objects.create(
        filename="dead.csv",
        organization=org,
        status=ImportRun.Status.RUNNING,
        started_at=stale,
        heartbeat_at=stale,
        processed_rows=4000,
        total_rows=9000,
    )
    never_started = ImportRun.objects.create(
        filename="queued.csv", organization=org, started_at=stale
    )
    ImportRun.objects.create(
        filename="alive.csv",
        organization=org,
        status=ImportRun.Status.RUNNING,
        started_at=stale,
        heartbeat_at=now,
    )
    ImportRun.objects.create(
        filename="done.csv",
        organization=org,
        status=ImportRun.Status.DONE,
        started_at=stale,
        heartbeat_at=stale,
    )

    # The sweep is a scheduled job (reading the pages writes nothing).
    assert sweep_stalled_imports() == 2
    page = login(client, yokohama).get(reverse("directory:import_detail", args=[dead.code]))
    assert page.status_code == 200
    assert "サーバーの再起動などで取込が中断されました（4,000行目付近まで反映済み）" in (
        page.content.decode()
    )
    statuses = dict(ImportRun.objects.values_list("filename", "status"))
    assert statuses == {
        "dead.csv": "failed",
        "queued.csv": "failed",
        "alive.csv": "running",
        "done.csv": "done",
    }
    assert set(
        AuditEntry.objects.filter(action="directory.import_interrupted").values_list(
            "target_id", flat=True
        )
    ) == {str(dead.code), str(never_started.code)}
    # Once closed, a run is not closed again.
    assert imports.fail_stalled_runs() == 0


def test_progress_keeps_a_long_import_alive(yokohama: Membership, tmp_path: Path) -> None:
    run = ImportRun.objects.create(filename=SAMPLE.name, organization=yokohama.organization)
    beats: list[Any] = []
    imports.run_import(
        run,
        SAMPLE,
        membership=yokohama,
        batch_size=2,
        on_progress=lambda done, total: beats.append(
            ImportRun.objects.values_list("heartbeat_at", flat=True).get(pk=run.pk)
        ),
    )
    assert len(beats) > 2 and all(b is not None for b in beats)
    assert beats == sorted(beats)


def test_reading_the_upload_pages_writes_nothing(
    client: Client, yokohama: Membership, settings: Any
) -> None:
    """A run without progress for longer than the stall limit stays as it is while the pages
    are read; only the scheduled sweep closes it."""
    stale = timezone.now() - dt.timedelta(seconds=settings.DIRECTORY_IMPORT_STALL_SECONDS + 5)
    run = ImportRun.objects.create(
        filename="dead.csv",
        organization=yokohama.organization,
        status=ImportRun.Status.RUNNING,
        started_at=stale,
        heartbeat_at=stale,
    )
    login(client, yokohama)
    assert client.get(reverse("directory:imports")).status_code == 200
    assert client.get(reverse("directory:import_detail", args=[run.code])).status_code == 200
    run.refresh_from_db()
    assert run.status == ImportRun.Status.RUNNING
    assert not AuditEntry.objects.filter(action="directory.import_interrupted").exists()
