from __future__ import annotations

import io
import secrets

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from renkei.accounts.middleware import SESSION_MEMBERSHIP_KEY
from renkei.accounts.models import AuditEntry, Membership
from renkei.lib.http import RenkeiRequest

OTP_FAILURE_LIMIT = 5


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class TokenForm(forms.Form):
    token = forms.CharField(
        label="確認コード",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _safe_next(request: RenkeiRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _qr_svg(uri: str) -> str:
    buf = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(buf)
    return buf.getvalue().decode("utf-8")


@require_http_methods(["GET", "POST"])
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
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            otp_login(request, device)
            static, _ = StaticDevice.objects.get_or_create(user=user, name="リカバリーコード")
            static.token_set.all().delete()
            codes = [secrets.token_hex(4) for _ in range(10)]
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
        {"form": form, "qr": _qr_svg(device.config_url), "key": device.key},
    )


@require_http_methods(["GET", "POST"])
def otp_verify(request: RenkeiRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    form = TokenForm(request.POST or None)
    failures = int(request.session.get("otp_failures", 0))
    if request.method == "POST":
        if failures >= OTP_FAILURE_LIMIT:
            AuditEntry.record("auth.otp_locked", request=request)
            return render(request, "accounts/locked.html", status=429)
        if form.is_valid():
            device = match_token(request.user, form.cleaned_data["token"].strip())
            if device is not None:
                otp_login(request, device)
                request.session["otp_failures"] = 0
                AuditEntry.record("auth.otp_verified", request=request)
                return redirect(_safe_next(request, reverse("home")))
            request.session["otp_failures"] = failures + 1
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
