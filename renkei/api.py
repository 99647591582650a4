"""The JSON API at /api/v1/: one router per app, errors as {"detail": ...}."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import SessionAuth

from renkei.desk.api import router as desk_router
from renkei.directory.api import router as directory_router
from renkei.events.api import router as events_router
from renkei.mentoring.api import router as mentoring_router
from renkei.referrals.api import router as referrals_router

api = NinjaAPI(
    title="Renkei API",
    version="1",
    description="在宅医療・介護連携プラットフォームのAPI。画面と同じ操作をJSONで提供します。",
    urls_namespace="api",
)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    messages = []
    for err in exc.errors:
        loc = ".".join(str(p) for p in err.get("loc", []) if p not in ("query", "body", "path"))
        messages.append(f"{loc}: {err.get('msg', '')}" if loc else str(err.get("msg", "")))
    return api.create_response(
        request,
        {"detail": "入力内容が正しくありません。" + " / ".join(messages), "errors": exc.errors},
        status=400,
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "ログインが必要です"}, status=401)


@api.exception_handler(MultiPartParserError)
def _malformed_body(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    # SessionAuth's CSRF check reads request.POST; a multipart type without a boundary
    # raises there, before any handler, and would otherwise be a 500.
    return api.create_response(
        request, {"detail": "リクエスト本文の形式が正しくありません"}, status=400
    )


session_auth = SessionAuth()

api.add_router("/directory/", directory_router)
api.add_router("/referrals/", referrals_router)
api.add_router("/desk/", desk_router)
api.add_router("/events/", events_router)
api.add_router("/mentoring/", mentoring_router)
