"""The action layer every app shares: one error family, one version check, one way to notify.

An action is a function in `<app>/actions.py` that does one workflow across models:
transactional, audited, with its side effects (mail, jobs) enqueued on commit. It takes the
acting membership and ONE typed input (a `renkei.lib.inputs.Input`), which the HTML form and
the ninja schema both produce, so the two doors cannot drift. It reports refusal by raising
`ActionError` or a subclass; the view shows the message beside the form (`renkei.lib.forms`),
the API answers `{"detail": ..., "field": ...}` with the error's status (`renkei.api`).

Nothing here imports an app: `lib` sits below every app (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connections, models, router, transaction
from django.db.models import F
from django.dispatch import Signal
from django.http import Http404
from django.template.loader import render_to_string

M = TypeVar("M", bound=models.Model)


class ActionError(Exception):
    """A request the rules refuse. The message is Japanese and shown to the user as it is.

    `field` names the input field the message is about (a form shows it there; the API
    returns it), `status` is what both doors answer with.
    """

    status: ClassVar[int] = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": self.message}
        if self.field:
            body["field"] = self.field
        return body


class NotFound(ActionError, Http404):
    """The actor may not see the object (or it does not exist): both doors answer 404.

    Also an Http404, so that a view which lets it through renders the ordinary 404 page:
    the scoped getter an app shares between its views and its API raises this one error.
    """

    status = 404


# Sent by get_visible when the record asked for exists outside the caller's scope, with
# sender (the model) and lookup; renkei.accounts records it in the audit log.
refused_read = Signal()


def get_visible(queryset: models.QuerySet[M], message: str, **lookup: Any) -> M:
    """The one object of an already scoped queryset, or NotFound(message).

    An outsider and an unknown id get the same answer, so nobody learns that a record
    exists. Integer lookups outside the 64-bit range are refused here rather than by the
    database (which would be a 500 on PostgreSQL).
    """
    for value in lookup.values():
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise NotFound(message)
    try:
        return queryset.get(**lookup)
    except ObjectDoesNotExist:
        raise not_visible(queryset.model, message, **lookup) from None


def not_visible(model: type[models.Model], message: str, **lookup: Any) -> NotFound:
    """The 404 for a lookup the caller's scope did not find, for a read written without
    get_visible (one statement with the rule inside): if the record exists it is a refused
    read, which the audit log keeps with who tried which id (issue 17 §7). The answer stays
    the same 404 either way."""
    if model._base_manager.filter(**lookup).exists():
        refused_read.send(sender=model, lookup=lookup)
    return NotFound(message)


class Forbidden(ActionError):
    """The actor sees the object but this role may not do this to it."""

    status = 403


class Conflict(ActionError):
    """The state moved on (already decided, withdrawn, full): retrying the same input fails."""

    status = 409


STALE_MESSAGE = "他の方が先に更新しました。最新の内容を確認してから、もう一度保存してください。"


class StaleVersion(Conflict):
    """The record was saved by someone else after the form was loaded (security R22).

    `current` is the record as it is now, so the form can be shown again on top of it
    with the user's input kept.
    """

    def __init__(self, current: models.Model, message: str = STALE_MESSAGE) -> None:
        super().__init__(message, field="version")
        self.current = current


def bump_version(
    obj: M,
    expected: int | None,
    *,
    message: str = STALE_MESSAGE,
    field: str = "version",
) -> None:
    """Optimistic lock: one conditional UPDATE ``version = version + 1 WHERE version = expected``.

    Raises StaleVersion with the current row when another save came first. `expected` None
    means the caller did not load a version (a server-side step): the row is bumped anyway,
    so later editors see the change. Call it inside the action's transaction, before the
    writes it guards. Either way one statement: the version is set on `obj` without a read.
    """
    model = type(obj)
    if expected is None:
        setattr(obj, field, _increment_returning(obj, field))
        return
    qs = model._default_manager.filter(pk=obj.pk, **{field: expected})
    if qs.update(**{field: F(field) + 1}) != 1:
        raise StaleVersion(model._default_manager.get(pk=obj.pk), message)
    # The row matched `expected` when it was updated (PostgreSQL re-checks the condition on
    # a row another transaction changed meanwhile), so it now holds exactly one more.
    setattr(obj, field, expected + 1)


def _increment_returning(obj: models.Model, field: str) -> int:
    """``UPDATE … SET field = field + 1 WHERE pk = … RETURNING field``: PostgreSQL and SQLite
    from 3.35 have RETURNING (Django 5.2's update() does not expose it); an older SQLite,
    which Django 5.2 still runs on, reads the row after the UPDATE."""
    model = type(obj)
    column = model._meta.get_field(field)
    assert isinstance(column, models.Field)
    owner = column.model._meta  # the table holding the column (a parent's, with inheritance)
    assert owner.pk.column and column.column
    connection = connections[router.db_for_write(model, instance=obj)]
    quote = connection.ops.quote_name
    # Names from the model's Meta, quoted; the one value is a bound parameter.
    col, table, where = quote(column.column), quote(owner.db_table), quote(owner.pk.column)
    update = f"UPDATE {table} SET {col} = {col} + 1 WHERE {where} = %s"  # noqa: S608
    pk = [owner.pk.get_db_prep_value(obj.pk, connection)]
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(f"{update} RETURNING {col}", pk)
        else:
            cursor.execute(update, pk)
            cursor.execute(f"SELECT {col} FROM {table} WHERE {where} = %s", pk)  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        model._default_manager.get(pk=obj.pk)  # the row is gone: the model's DoesNotExist
    return int(row[0])


def as_prefetched(instance: models.Model, relation: str, rows: Iterable[M]) -> None:
    """Keep rows an action just wrote as `instance`'s `relation`, as prefetch_related keeps
    what it read: an evaluated QuerySet in the prefetch cache, so `.all()` and iterating are
    these rows (and `.count()` their number) while any other query on the relation (filter,
    order_by) still asks the database. `rows` in the order a read would give them (the model's ordering)."""
    queryset = getattr(instance, relation).get_queryset()  # before the cache exists
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[relation] = queryset


def validation_message(e: ValidationError) -> str:
    """A Django ValidationError as one Japanese sentence for an ActionError."""
    if hasattr(e, "error_dict"):
        return " ".join(m for msgs in e.message_dict.values() for m in msgs)
    return " ".join(e.messages)


def full_clean(
    obj: models.Model,
    *,
    exclude: Iterable[str] = (),
    validate_unique: bool = True,
    validate_constraints: bool = True,
) -> None:
    """Model.full_clean() whose failure is an ActionError naming the first field in error."""
    try:
        obj.full_clean(
            exclude=list(exclude),
            validate_unique=validate_unique,
            validate_constraints=validate_constraints,
        )
    except ValidationError as e:
        field = next(iter(e.message_dict), None) if hasattr(e, "error_dict") else None
        if field == "__all__":
            field = None
        raise ActionError(validation_message(e), field=field) from e


def on_commit(func: Callable[[], Any]) -> None:
    """Run `func` after the surrounding transaction commits; its failure never fails the request.

    For in-process side effects only (deleting a replaced file). Mail and any work that must
    not be lost go through `notify()` / `renkei.lib.jobs`, which are enqueued in the same
    transaction as the data (an outbox).
    """
    transaction.on_commit(func, robust=True)


@dataclass(frozen=True)
class Notice:
    """One e-mail of `notify_all`: the arguments of `notify`."""

    to: Iterable[str]
    subject: str
    template: str
    context: Mapping[str, Any]
    reply_to: Iterable[str] = ()


def notify(
    *,
    to: Iterable[str],
    subject: str,
    template: str,
    context: Mapping[str, Any],
    reply_to: Iterable[str] = (),
) -> int:
    """Send one e-mail per recipient, rendered now and delivered by the job queue.

    Rendered inside the action so the message says what the committed data said; enqueued
    in the action's transaction, so a rolled-back change sends nothing and a committed one
    loses nothing. A failing mail server never fails the request: the job retries. Returns
    how many messages were enqueued. `template` is a plain-text template under
    `templates/emails/`; the subject gets the site name prefix.
    """
    return notify_all([Notice(to, subject, template, context, reply_to)])


def notify_all(notices: Iterable[Notice]) -> int:
    """`notify` for several e-mails of one action (a case sent to many facilities): each
    rendered now as `notify` renders it, all enqueued together (ADR 0067)."""
    from renkei.lib import mail

    messages = []
    for n in notices:
        recipients = list(n.to)
        if recipients:
            body = render_to_string(f"emails/{n.template}", dict(n.context))
            messages.append(mail.Message(recipients, n.subject, body, n.reply_to))
    return mail.send_all(messages)
