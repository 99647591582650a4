"""Read-only lists of the job queue and of failed jobs, for superusers and the 運営事務局 only."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from renkei.accounts.models import Membership, OrgKind
from renkei.ops.models import JobFailure


def may_watch_jobs(request: HttpRequest) -> bool:
    """Job arguments carry ids and addresses: superusers, and staff of the 運営事務局."""
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user_id=user.pk, organization__kind=OrgKind.OPERATOR).exists()


class OperatorsOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_watch_jobs(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_watch_jobs(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JobFailure)
class JobFailureAdmin(OperatorsOnly, admin.ModelAdmin[JobFailure]):
    list_display = ["at", "task_name", "job_id", "attempt", "will_retry", "short_error"]
    list_filter = ["task_name", "will_retry"]
    search_fields = ["task_name", "error"]
    date_hierarchy = "at"

    @admin.display(description="エラー")
    def short_error(self, obj: JobFailure) -> str:
        lines = obj.error.strip().splitlines()
        return lines[-1][:200] if lines else ""


if apps.is_installed("procrastinate.contrib.django"):
    from procrastinate.contrib.django.admin import ProcrastinateJobAdmin
    from procrastinate.contrib.django.models import ProcrastinateJob

    class QueueAdmin(OperatorsOnly, ProcrastinateJobAdmin):
        """Procrastinate's own list (queued, running, failed, with their events), read-only,
        plus the last error recorded for each job. Its retry action stays: an operator retries a
        job that ran out of retries once the cause is fixed."""

        list_display = [*ProcrastinateJobAdmin.list_display, "last_error"]

        def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
            # The admin's actions (retry, cancel) need it; the form itself is all read-only.
            return may_watch_jobs(request)

        def get_queryset(self, request: HttpRequest) -> QuerySet[ProcrastinateJob]:
            last = JobFailure.objects.filter(job_id=OuterRef("pk")).order_by("-at")
            jobs: QuerySet[ProcrastinateJob] = super().get_queryset(request)
            annotated: QuerySet[ProcrastinateJob] = jobs.annotate(
                error=Subquery(last.values("error")[:1])
            )
            return annotated

        @admin.display(description="最後のエラー")
        def last_error(self, obj: ProcrastinateJob) -> str:
            lines = (getattr(obj, "error", None) or "").strip().splitlines()
            return lines[-1][:200] if lines else ""

    admin.site.unregister(ProcrastinateJob)
    admin.site.register(ProcrastinateJob, QueueAdmin)
