"""The JSON API at /api/v1/: one router per app, errors as {"detail": ...}."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser
from ninja.renderers import BaseRenderer
from ninja.security import SessionAuth

from renkei.care.api import router as care_router
from renkei.courses.api import router as courses_router
from renkei.desk.api import router as desk_router
from renkei.directory.api import router as directory_router
from renkei.events.api import router as events_router
from renkei.lib import badinput
from renkei.lib.actions import ActionError
from renkei.lib.http import json_bytes
from renkei.lib.inputs import error_field, japanese_message
from renkei.lib.ratelimit import RateLimited
from renkei.mentoring.api import router as mentoring_router
from renkei.oncall.api import router as oncall_router
from renkei.pdca.api import indicators_router, surveys_router
from renkei.programmes.api import router as programmes_router
from renkei.referrals.api import router as referrals_router

logger = logging.getLogger(__name__)

API_ERROR_SCHEMA = {
    "title": "ApiError",
    "type": "object",
    "properties": {
        "detail": {"title": "Detail", "type": "string"},
        "errors": {"title": "Errors", "type": "array", "items": {"type": "object"}},
    },
    "required": ["detail"],
}


NUL_MESSAGE = "使用できない文字（NUL）が含まれています"
BODY_MESSAGE = "リクエスト本文をJSONとして読み取れません（JSONの書式を確認してください）"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class RenkeiParser(Parser):
    """Refuses NUL in bodies and query strings: PostgreSQL text cannot hold it, and one that
    reached a lookup or an insert was a 500 (found by fuzzing the API)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if _has_nul(data):
            # Ninja turns any error here into its "Cannot parse request body" 400.
            raise ValueError(NUL_MESSAGE)
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        result = super().parse_querydict(data, list_fields, request)
        if _has_nul(result):
            raise HttpError(400, NUL_MESSAGE)
        return result


class RenkeiRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return json_bytes(data)


class _OneNamePerSchema(OpenAPISchema):
    """Ninja files every model's schema under its class name and lets a second one of the same
    name silently replace the first: referrals' and oncall's AnswerInput were documented with one
    set of fields, so every generated client and schemathesis sent the wrong body to one of them.
    Here a second, different definition under a taken name is recorded (and logged), and
    tests/test_api_schemathesis.py fails on it; the document itself is still served."""

    def __init__(self, api: NinjaAPI, path_prefix: str) -> None:
        self.clashes: list[str] = []
        super().__init__(api, path_prefix)

    def add_schema_definitions(self, definitions: dict[str, Any]) -> None:
        for name, definition in definitions.items():
            taken = self.schemas.get(name)
            if taken is not None and taken != definition and name not in self.clashes:
                self.clashes.append(name)
                logger.error(
                    "Two different schemas are named %r in the API; give one of the classes a "
                    "name of its own (the OpenAPI document keys them by class name).",
                    name,
                )
        super().add_schema_definitions(definitions)


class RenkeiAPI(NinjaAPI):
    """Its schema also lists the errors that the API-wide handlers below return for any operation:
    400 for input that fails validation (or a body that cannot be parsed), 401 without a session,
    403 when the CSRF check of a cookie-authenticated write fails."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        schema = _OneNamePerSchema(self, path_prefix)
        schema.setdefault("components", {}).setdefault("schemas", {})["ApiError"] = API_ERROR_SCHEMA
        error = {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
        }
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                responses = operation["responses"]
                declared = {int(code) for code in responses}
                unsafe = method.lower() not in ("get", "head", "options")
                secured = bool(operation.get("security"))
                wanted: dict[int, str] = {}
                if operation.get("parameters") or "requestBody" in operation or unsafe:
                    wanted[400] = "入力内容が正しくありません"
                if "requestBody" in operation:
                    # renkei.lib.badinput, before any handler: the body must be a JSON object.
                    wanted[415] = "本文がJSONではありません（Content-Type: application/json）"
                    wanted[422] = "本文がJSONのオブジェクトではありません"
                if secured:
                    wanted[401] = "ログインが必要です"
                if secured and unsafe:
                    wanted[403] = "CSRFの確認に失敗しました"
                for code, description in wanted.items():
                    if code not in declared:
                        responses[code] = {"description": description, **error}
                for parameter in operation.get("parameters", ()):
                    query = parameter.get("in") == "query"
                    limit = badinput.MAX_QUERY_VALUE if query else None
                    _bounded(parameter.get("schema"), text=limit)
        for component in schema["components"]["schemas"].values():
            _bounded(component)
        return schema


def _bounded(schema: Any, *, text: int | None = None) -> None:
    """The limits renkei.lib.badinput puts on every request, written into each schema that
    does not state tighter ones: no integer past 64 bits, no query value past its length."""
    if isinstance(schema, list):
        for item in schema:
            _bounded(item, text=text)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "integer":
        schema.setdefault("minimum", -badinput.INT64)
        schema.setdefault("maximum", badinput.INT64)
    if text is not None and schema.get("type") == "string" and "maxLength" not in schema:
        schema["maxLength"] = text
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            for sub in value.values():
                _bounded(sub, text=text)
        elif key in ("items", "anyOf", "allOf", "oneOf", "additionalProperties", "not"):
            _bounded(value, text=text)


api = RenkeiAPI(
    title="Renkei API",
    version="1",
    description=(
        "在宅医療・介護連携プラットフォームのAPI。画面と同じ操作をJSONで提供します。"
        "本文はJSONのオブジェクト（Content-Type: application/json）で送ってください。"
        "文字列にNUL文字（U+0000）や不正なUTF-8を含むリクエスト、64ビットを超える19桁以上の"
        "数字だけの値を含むリクエストは、どの項目でも400で断ります。"
        "形式は正しくても登録内容と合わない値（存在しない市区町村コードなど）や、"
        "項目どうしの組合せ・記録の状態による誤りも、日本語のメッセージ付きの400で答えます。"
    ),
    urls_namespace="api",
    parser=RenkeiParser(),
    renderer=RenkeiRenderer(),
)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    detail = str(exc)
    if detail.startswith("Cannot parse request body"):
        # Ninja's own message for a body that is not JSON (or that RenkeiParser refused).
        detail = BODY_MESSAGE
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    messages = []
    for err in exc.errors:
        loc = error_field(err)
        text = japanese_message(err)
        messages.append(f"{loc}: {text}" if loc else text)
    return api.create_response(
        request,
        {"detail": "入力内容が正しくありません。" + " / ".join(messages), "errors": exc.errors},
        status=400,
    )


@api.exception_handler(ActionError)
def _action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    # Every action's refusal, whichever app raised it: the same message the form shows.
    return api.create_response(request, exc.as_json(), status=exc.status)


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = api.create_response(request, {"detail": str(exc)}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


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
api.add_router("/oncall/", oncall_router)
api.add_router("/care/", care_router)
api.add_router("/courses/", courses_router)
api.add_router("/programmes/surveys/", surveys_router)
api.add_router("/programmes/indicators/", indicators_router)
api.add_router("/programmes/", programmes_router)
