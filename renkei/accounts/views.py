from __future__ import annotations

import base64
import datetime as dt
import io
import secrets
import time
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from renkei.accounts.actions import NamedRolesInput, set_named_read_roles
from renkei.accounts.http import (
    AUTHENTICATED_AT_KEY,
    MemberRequest,
    RenkeiRequest,
    member_required,
    recent_authentication_required,
)
from renkei.accounts.middleware import SESSION_MEMBERSHIP_KEY
from renkei.accounts.models import DEFAULT_NAMED_READ_ROLES, AuditEntry, Membership, Role, User
from renkei.lib import ratelimit
from renkei.lib.actions import ActionError
from renkei.lib.forms import input_from_form, show_error

OTP_FAILURE_LIMIT = 5
OTP_FAILURE_WINDOW = dt.timedelta(minutes=30)
RECOVERY_DEVICE = "リカバリーコード"
RECOVERY_CODE_COUNT = 10


class LoginForm(AuthenticationForm):
    """Django's form, with the login ID's length enforced before authentication: Django sets
    the field's max_length after building its validators, so a 1 KB ID reached authenticate()
    and django-axes' varchar(255) record of the failure (a 500 on PostgreSQL)."""

    def clean_username(self) -> str:
        username = str(self.cleaned_data.get("username") or "")
        limit = 150  # User.username's max_length (AbstractUser)
        if len(username) > limit:
            raise ValidationError(f"ログインIDは{limit}文字以内で入力してください")
        return username


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    authentication_form = LoginForm


class PasswordResetView(auth_views.PasswordResetView):
    """Django's view, with rate limits (R05): reset mails per client address and per e-mail
    address, so that the form can neither flood an inbox nor probe addresses quickly. Over the
    limit the answer is 429 and nothing is sent."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        email = str(request.POST.get("email", "")).strip().lower()[:254]
        for scope, key in (
            ("password_reset", ratelimit.by_ip(request)),
            ("password_reset_email", email or "-"),
        ):
            if (wait := ratelimit.hit(scope, key)) is not None:
                AuditEntry.record("auth.password_reset_limited", request=request)
                return ratelimit.too_many(request, wait)
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view, plus an audit row: a password change is a security event (R08)."""

    def form_valid(self, form: SetPasswordForm[Any]) -> HttpResponse:
        response = super().form_valid(form)
        AuditEntry.record("auth.password_reset", request=self.request, actor=form.user)
        return response


class TokenForm(forms.Form):
    token = forms.CharField(
        label="確認コード",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ReauthForm(forms.Form):
    password = forms.CharField(
        label="パスワード",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


def _safe_next(request: RenkeiRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _recent_otp_failures(user: User) -> int:
    """Wrong second-factor codes in the window since the last success, from the audit log.

    Counting in the database rather than the session means signing in again (a fresh
    session) does not buy another round of guesses.
    """
    since = timezone.now() - OTP_FAILURE_WINDOW
    last_ok = (
        AuditEntry.objects.filter(
            actor=user, action__in=["auth.otp_verified", "auth.otp_enrolled"], at__gte=since
        )
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return AuditEntry.objects.filter(
        actor=user, action="auth.otp_failed", at__gte=last_ok or since
    ).count()


def _qr_svg(uri: str) -> str:
    buf = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(buf)
    return buf.getvalue().decode("utf-8")


@never_cache
@require_http_methods(["GET", "POST"])
def reauth(request: RenkeiRequest) -> HttpResponse:
    """The password again before a sensitive step (R07); back to `next` when it is right.

    It goes through authenticate(), so wrong passwords count towards the lock-out (axes) and
    are audited as failed sign-ins, as on the login page.
    """
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, username=request.user.get_username(), password=form.cleaned_data["password"]
        )
        if user is not None and user.pk == request.user.pk:
            request.session[AUTHENTICATED_AT_KEY] = int(time.time())
            AuditEntry.record("auth.reauthenticated", request=request)
            return redirect(_safe_next(request, reverse("accounts:profile")))
        form.add_error("password", "パスワードが正しくありません。")
    return render(
        request,
        "accounts/reauth.html",
        {"form": form, "next": _safe_next(request, ""), "minutes": settings.REAUTH_SECONDS // 60},
    )


# The secret key and the recovery codes must not stay in any cache. Enrolling replaces any
# authenticator app and issues new recovery codes: only right after the password (R07).
@never_cache
@require_http_methods(["GET", "POST"])
@recent_authentication_required
def otp_setup(request: RenkeiRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists() and not user.is_verified():  # type: ignore[attr-defined]
        return redirect("accounts:otp_verify")
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "認証アプリ"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            # A new enrolment replaces the previous authenticator app.
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            otp_login(request, device)
            request.session.cycle_key()
            static, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE)
            static.token_set.all().delete()
            codes = [secrets.token_hex(4) for _ in range(RECOVERY_CODE_COUNT)]
            for c in codes:
                StaticToken.objects.create(device=static, token=c)
            AuditEntry.record("auth.otp_enrolled", request=request)
            return render(request, "accounts/otp_codes.html", {"codes": codes})
        form.add_error(
            "token", "確認コードが正しくありません。認証アプリの6桁の数字を入力してください。"
        )
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "qr": _qr_svg(device.config_url),
            # Authenticator apps take the key in base32 when typed by hand.
            "key": base64.b32encode(device.bin_key).decode("ascii"),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def otp_verify(request: RenkeiRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):
        return redirect("accounts:login")
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        if _recent_otp_failures(user) >= OTP_FAILURE_LIMIT:
            AuditEntry.record("auth.otp_locked", request=request)
            return render(request, "accounts/locked.html", status=429)
        if form.is_valid():
            device = match_token(user, form.cleaned_data["token"].strip())
            if device is not None:
                otp_login(request, device)
                # A new session ID for the stronger authentication level (ASVS 7.2.4).
                request.session.cycle_key()
                AuditEntry.record(
                    "auth.otp_verified",
                    request=request,
                    detail={
                        "method": "recovery_code" if isinstance(device, StaticDevice) else "totp"
                    },
                )
                return redirect(_safe_next(request, reverse("home")))
            AuditEntry.record("auth.otp_failed", request=request)
            form.add_error("token", "確認コードが正しくありません。")
    return render(
        request, "accounts/otp_verify.html", {"form": form, "next": _safe_next(request, "")}
    )


@require_POST
def switch_membership(request: RenkeiRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    chosen = request.POST.get("membership", "")
    m = (
        Membership.objects.filter(user=request.user, is_active=True, pk=int(chosen)).first()
        if chosen.isdigit()
        else None
    )
    if m is not None:
        request.session[SESSION_MEMBERSHIP_KEY] = m.pk
        messages.success(request, f"{m.organization}（{m.get_role_display()}）に切り替えました。")
    return redirect(_safe_next(request, reverse("home")))


def profile(request: RenkeiRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    memberships = Membership.objects.filter(user=request.user, is_active=True).select_related(
        "organization"
    )
    has_device = TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
    return render(
        request, "accounts/profile.html", {"memberships": memberships, "has_device": has_device}
    )


class NamedRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="氏名入りの記録を閲覧できる職種",
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "職種の選択が正しくありません（%(value)s）"},
    )


@never_cache
@member_required
@require_http_methods(["GET", "POST"])
def named_roles(request: MemberRequest) -> HttpResponse:
    """The organisation's administrator chooses which roles read its named records (ADR 0043).

    Anyone else, a member of the same organisation included, is told the page does not exist."""
    m = request.membership
    if not m.is_org_admin:
        raise Http404
    org = m.organization
    status = 200
    if request.method == "POST":
        form = NamedRolesForm(request.POST)
        data = input_from_form(form, NamedRolesInput)
        if data is not None:
            try:
                set_named_read_roles(org, by=m, data=data, request=request)
            except ActionError as e:
                show_error(form, e)
                status = e.status
            else:
                messages.success(request, "氏名入りの記録を閲覧できる職種を保存しました")
                return redirect("accounts:named_roles")
        else:
            status = 400
    else:
        form = NamedRolesForm(initial={"roles": sorted(org.named_roles())})
    return render(
        request,
        "accounts/named_roles.html",
        {"form": form, "organization": org, "defaults": DEFAULT_NAMED_READ_ROLES},
        status=status,
    )
