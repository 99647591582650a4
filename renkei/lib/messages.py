"""Django's messages, with the request's storage built when first used (issue 12).

django.contrib.messages' middleware builds the storage (a cookie and a session backend) for
every request; a JSON search never touches it, and building it was ~2 % of one's CPU. Here
`request._messages` is a lazy object: `messages.add_message`, `get_messages`, the template
context processor and `set_level` reach the storage through it as before, and a response whose
request never used it has nothing to store.
"""

from __future__ import annotations

import functools

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty


class LazyMessageMiddleware(MessageMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(functools.partial(default_storage, request))  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        storage = getattr(request, "_messages", None)
        if isinstance(storage, SimpleLazyObject) and storage._wrapped is empty:
            return response  # never used: nothing to store, no cookie to touch
        return super().process_response(request, response)
