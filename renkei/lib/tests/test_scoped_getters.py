"""One getter per record type: a scoped queryset, and NotFound (a 404 on every door) otherwise."""

from __future__ import annotations

import pytest
from django.http import Http404

from renkei.directory.models import Facility
from renkei.lib.actions import ActionError, NotFound, get_visible
from renkei.testing import make_facility

pytestmark = pytest.mark.django_db


def test_get_visible_returns_the_one_object_of_the_scope() -> None:
    """An object inside the scope is returned as it is."""
    f = make_facility("見える施設")
    assert get_visible(Facility.objects.all(), "見つかりません", code=f.code) == f


def test_outside_the_scope_and_unknown_are_the_same_not_found() -> None:
    """A record outside the scope is refused exactly like one that does not exist."""
    hidden = make_facility("見えない施設")
    outside = Facility.objects.exclude(pk=hidden.pk)
    with pytest.raises(NotFound) as caught:
        get_visible(outside, "施設が見つかりません", code=hidden.code)
    with pytest.raises(NotFound) as unknown:
        get_visible(outside, "施設が見つかりません", pk=hidden.pk + 1000)
    assert caught.value.message == unknown.value.message == "施設が見つかりません"
    assert caught.value.status == 404


@pytest.mark.parametrize("pk", [2**63, -(2**63) - 1, 2**70])
def test_ids_beyond_64_bits_are_not_found_without_a_database_error(pk: int) -> None:
    """An id the column cannot hold is refused before it reaches the database."""
    with pytest.raises(NotFound):
        get_visible(Facility.objects.all(), "見つかりません", pk=pk)


def test_not_found_is_an_http_404_and_an_action_error() -> None:
    """A view that lets it through shows the 404 page; the API's handler answers its JSON."""
    e: Exception = NotFound("見つかりません")
    assert isinstance(e, Http404)
    assert isinstance(e, ActionError)
    assert e.as_json() == {"detail": "見つかりません"}
