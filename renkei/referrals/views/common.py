"""What the placement screens share: submit-once form tokens and the list's query string."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages

from renkei.accounts.http import MemberRequest
from renkei.accounts.idempotency import KeyReused, run_once, valid_key
from renkei.lib.actions import ActionError

PER_PAGE = 20


class TokenError(ActionError):
    """The form's single-use token is missing, expired or was used for another step."""


def once(request: MemberRequest, token: str, scope: str, work: Callable[[], str]) -> str:
    """Run `work` (which returns the URL to go to) once per form token; replays get the same URL."""
    if not valid_key(token or ""):
        raise TokenError(
            "フォームの有効期限が切れました。画面を開き直してから、もう一度送信してください。"
        )
    try:
        _, body, replayed = run_once(
            request.user, f"form:{token}", scope, lambda: (302, {"redirect": work()})
        )
    except KeyReused as e:
        raise TokenError(e.message) from e
    if replayed:
        messages.info(request, "この内容はすでに送信済みです（二重送信は処理しませんでした）。")
    return str(body["redirect"])


def querystring(request: MemberRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    encoded = params.urlencode()
    return encoded + "&" if encoded else ""
