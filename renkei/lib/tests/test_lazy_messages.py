"""renkei.lib.messages: the storage is built on first use, and used storage is saved as
Django's MessageMiddleware saves it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from renkei.lib.messages import LazyMessageMiddleware


def _run(view: object) -> tuple[HttpRequest, HttpResponse]:
    request = RequestFactory().get("/somewhere/")
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    middleware = LazyMessageMiddleware(view)  # type: ignore[arg-type]
    response = middleware(request)
    assert isinstance(response, HttpResponse)
    return request, response


def test_a_request_that_never_uses_messages_builds_no_storage() -> None:
    request, response = _run(lambda r: HttpResponse("{}"))
    assert not isinstance(request._messages._wrapped, FallbackStorage)  # type: ignore[attr-defined]
    assert "messages" not in response.cookies


def test_a_message_added_is_stored_and_read_back() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        messages.success(request, "保存しました")
        messages.set_level(request, messages.DEBUG)
        assert messages.get_level(request) == messages.DEBUG
        return HttpResponse("ok")

    request, response = _run(view)
    assert isinstance(request._messages._wrapped, FallbackStorage)  # type: ignore[attr-defined]
    # Stored in the cookie (FallbackStorage's first backend), as Django's middleware stores it.
    assert "messages" in response.cookies

    following = RequestFactory().get("/next/")
    following.COOKIES["messages"] = response.cookies["messages"].value
    SessionMiddleware(lambda r: HttpResponse()).process_request(following)
    seen: list[str] = []

    def read(request: HttpRequest) -> HttpResponse:
        seen.extend(str(m) for m in messages.get_messages(request))
        return HttpResponse("ok")

    LazyMessageMiddleware(read)(following)
    assert seen == ["保存しました"]
