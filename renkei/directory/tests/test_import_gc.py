"""An import keeps the process's existing objects out of the collector's full passes while it
runs, and leaves the collector as it found it."""

from __future__ import annotations

import gc

import pytest

from renkei.directory import imports
from renkei.directory.models import Facility
from renkei.directory.tests.test_import_kaigo import kaigo_csv, kaigo_row

pytestmark = pytest.mark.django_db


def rows() -> bytes:
    return kaigo_csv(*(kaigo_row(事業所番号=f"14700{i:05d}") for i in range(3)))


def test_an_import_freezes_what_exists_and_thaws_it_after() -> None:
    """While the rows are written the objects that existed before are frozen; afterwards none
    are, and the facilities are there."""
    assert gc.get_freeze_count() == 0
    frozen_during: list[int] = []

    imports.import_bytes(
        rows(),
        filename="jigyosho_510.csv",
        progress=lambda done, total: frozen_during.append(gc.get_freeze_count()),
    )

    assert frozen_during
    assert min(frozen_during) > 0
    assert gc.get_freeze_count() == 0
    assert Facility.objects.count() == 3


def test_an_import_leaves_a_freeze_it_did_not_make() -> None:
    """A process that froze its objects itself (a server after boot) keeps them frozen."""
    gc.freeze()
    try:
        imports.import_bytes(rows(), filename="jigyosho_510.csv")
        # Fewer than before: frozen objects the import let go of leave the count.
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_refused_file_thaws_too() -> None:
    """A file refused before any row is written leaves nothing frozen."""
    with pytest.raises(imports.FileRefused):
        imports.import_bytes(b"not,a\r\nknown,format\r\n", filename="x.csv")
    assert gc.get_freeze_count() == 0
