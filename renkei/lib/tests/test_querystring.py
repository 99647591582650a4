"""The server's request.GET (renkei.lib.querystring) holds what Django's QueryDict holds."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import TooManyFieldsSent
from django.http import QueryDict
from pytest_django.fixtures import Settings

from renkei.lib.querystring import QueryString, Request

CASES = [
    "",
    "q=",
    "q",
    "&&q=1&&",
    "a=1&a=2&b=3&a=4",
    "a=1=2",
    "=x",
    "lat=35.45123&lng=139.61234&radius_km=20&sort=distance&vacancy=1",
    "q=%E3%81%95%E3%81%8F%E3%82%89&kind=tokuyo",
    "q=a+b&q=c%2Bd",
    "q=%FF%FE",  # not UTF-8: replaced, as parse_qsl does
    "q=%",
    "q=さくら&kind=tokuyo,clinic",  # a raw non-ASCII string
    "a;b=1&c=2",  # ";" is no separator
]


@pytest.mark.parametrize("raw", CASES)
def test_the_same_lists_as_django(raw: str) -> None:
    ours, django = QueryString(raw), QueryDict(raw)
    assert list(ours.lists()) == list(django.lists())
    assert ours == django and not ours._mutable
    assert QueryString(raw, mutable=True)._mutable
    as_bytes = raw.encode()
    assert list(QueryString(as_bytes).lists()) == list(QueryDict(as_bytes).lists())


def test_bytes_that_are_not_utf8_are_read_as_latin1_like_django() -> None:
    raw = b"q=\xff\xfe&x=1"
    assert list(QueryString(raw).lists()) == list(QueryDict(raw).lists())


def test_immutable_and_copyable_like_django() -> None:
    qs = QueryString("a=1&a=2")
    with pytest.raises(AttributeError):
        qs["a"] = "3"
    copy = qs.copy()
    copy["b"] = "x"
    assert copy.getlist("a") == ["1", "2"] and "b" not in qs


@pytest.mark.parametrize("raw", ["a=1&b=2&c=3", "a=1&b=%20&c=3"])
def test_too_many_fields_is_refused_like_django(settings: Settings, raw: str) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2
    with pytest.raises(TooManyFieldsSent):
        QueryDict(raw)
    with pytest.raises(TooManyFieldsSent):
        QueryString(raw)
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    assert QueryString(raw) == QueryDict(raw)


def test_an_empty_query_string_has_no_fields_like_django(settings: Settings) -> None:
    # parse_qsl counts no field in "", so even a limit of 0 lets it through.
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 0
    assert QueryString("") == QueryDict("") == {}
    with pytest.raises(TooManyFieldsSent):
        QueryDict("a")
    with pytest.raises(TooManyFieldsSent):
        QueryString("a")


def test_the_server_request_reads_get_through_it() -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/v1/directory/facilities",
        "QUERY_STRING": "kind=tokuyo&kind=clinic&q=%E3%81%95",
        "wsgi.input": io.BytesIO(b""),
    }
    get = Request(environ).GET
    assert isinstance(get, QueryString)
    assert get.getlist("kind") == ["tokuyo", "clinic"] and get["q"] == "さ"


def test_the_wsgi_application_uses_it(settings: Settings) -> None:
    settings.DEBUG = True  # the demo keys of the tests: the server refuses them otherwise
    from renkei.wsgi import application

    assert application.request_class is Request
