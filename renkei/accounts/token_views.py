"""Screens for API tokens (ADR 0044): the administrator lists, issues and revokes; the member a
token acts for approves or revokes it. Everyone else is told the token does not exist."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from renkei.accounts import tokens
from renkei.accounts.http import MemberRequest, member_required, recent_authentication_required
from renkei.accounts.models import ApiToken, TokenScope
from renkei.lib.actions import ActionError
from renkei.lib.forms import submit


class IssueTokenForm(forms.Form):
    name = forms.CharField(
        label="名称（接続するシステム）",
        max_length=60,
        help_text="例: 〇〇クリニック 電子カルテ連携",
        error_messages={"required": "名称（接続するシステム）を入力してください"},
    )
    acts_for = forms.TypedChoiceField(
        label="代理するメンバー",
        coerce=int,
        help_text="トークンはこのメンバーと同じ範囲の患者だけを読み取れます。"
        "ご自身以外を選ぶと、その方の承認後に使えるようになります。",
        error_messages={
            "required": "代理するメンバーを選んでください",
            "invalid_choice": "代理するメンバーは、この組織の有効なメンバーから選んでください",
        },
    )
    scopes = forms.MultipleChoiceField(
        label="範囲（読み取りのみ）",
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "範囲を1つ以上選んでください",
            "invalid_choice": "範囲は選択肢から選んでください（%(value)s）",
        },
    )
    days = forms.IntegerField(
        label="有効日数",
        min_value=1,
        max_value=tokens.MAX_DAYS,
        initial=30,
        help_text=f"1〜{tokens.MAX_DAYS}日。期限が来たら新しいトークンを発行してください。",
        error_messages={
            "required": "有効日数を入力してください",
            "invalid": "有効日数は数字で入力してください",
            "min_value": "有効日数は1日以上にしてください",
            "max_value": f"有効日数は{tokens.MAX_DAYS}日以内にしてください",
        },
    )

    def __init__(self, *args: object, members: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["acts_for"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "選んでください"), *members]


@never_cache
@member_required
def token_list(request: MemberRequest) -> HttpResponse:
    m = request.membership
    rows = list(tokens.visible_tokens(m))
    return render(
        request,
        "accounts/tokens.html",
        {
            "rows": rows,
            "is_admin": m.is_org_admin,
            "membership": m,
            "awaiting": [t for t in rows if t.membership_id == m.pk and t.state == "承認待ち"],
        },
    )


def second_factor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A token reads what its member reads, patients included, with no second factor of its
    own: who issues or approves it has passed theirs (as every care screen asks), so a member
    without one cannot open by token what the screens refuse them."""

    @wraps(view)
    def wrapper(request: MemberRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_verified():  # type: ignore[attr-defined]
            messages.error(request, "APIトークンの発行・承認には二要素認証が必要です")
            return redirect("accounts:otp_setup")
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@member_required
@recent_authentication_required
@second_factor_required
@require_http_methods(["GET", "POST"])
def token_issue(request: MemberRequest) -> HttpResponse:
    """The full token is on this one response and nowhere else: no redirect, no session."""
    m = request.membership
    if not m.is_org_admin:
        raise Http404
    members = [
        (x.pk, f"{x.user}（{x.get_role_display()}）{'・ご自身' if x.pk == m.pk else ''}")
        for x in tokens.members_to_act_for(m)
    ]
    status = 200
    if request.method == "POST":
        form = IssueTokenForm(request.POST, members=members)
        done = submit(
            form,
            tokens.IssueTokenInput,
            lambda data: tokens.issue_token(by=m, data=data, request=request),
        )
        if done.result is not None:
            token, raw = done.result
            return render(request, "accounts/token_issued.html", {"t": token, "raw": raw})
        status = done.status
    else:
        form = IssueTokenForm(members=members, initial={"scopes": [TokenScope.CARE_READ]})
    return render(request, "accounts/token_issue.html", {"form": form}, status=status)


def _confirm(
    request: MemberRequest,
    pk: int,
    *,
    verb: str,
    act: str,
) -> HttpResponse:
    m = request.membership
    token: ApiToken = tokens.visible_token(m, pk)
    if request.method == "POST":
        try:
            if act == "revoke":
                tokens.revoke_token(token, by=m, request=request)
            else:
                tokens.approve_token(token, by=m, request=request)
        except ActionError as e:
            messages.error(request, e.message)
            return render(
                request,
                "accounts/token_confirm.html",
                {"t": token, "verb": verb, "act": act},
                status=e.status,
            )
        messages.success(request, f"トークン「{token.name}」を{verb}しました")
        return redirect("accounts:tokens")
    return render(request, "accounts/token_confirm.html", {"t": token, "verb": verb, "act": act})


@never_cache
@member_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: MemberRequest, pk: int) -> HttpResponse:
    return _confirm(request, pk, verb="失効", act="revoke")


@never_cache
@member_required
@recent_authentication_required
@second_factor_required
@require_http_methods(["GET", "POST"])
def token_approve(request: MemberRequest, pk: int) -> HttpResponse:
    return _confirm(request, pk, verb="承認", act="approve")
