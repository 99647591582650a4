"""Hash chains: a row changed afterwards, or removed, breaks the chain from there on."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from renkei.lib.chain import chain_digest, first_broken


@dataclass(frozen=True)
class Row:
    n: int
    text: str
    digest: str = ""


def _content(row: Row) -> dict[str, Any]:
    return {"n": row.n, "text": row.text}


def _chain(*texts: str) -> list[Row]:
    rows: list[Row] = []
    previous = ""
    for i, text in enumerate(texts, start=1):
        row = Row(i, text)
        previous = chain_digest(previous, _content(row))
        rows.append(replace(row, digest=previous))
    return rows


def _broken(rows: list[Row]) -> Row | None:
    return first_broken(rows, content=_content, digest=lambda r: r.digest)


def test_an_untouched_chain_verifies() -> None:
    """Every stored digest matches its content and its predecessor."""
    assert _broken(_chain("一", "二", "三")) is None


def test_the_first_altered_row_is_named() -> None:
    """Changing the second row's content is found at the second row."""
    rows = _chain("一", "二", "三")
    rows[1] = replace(rows[1], text="改ざん")
    assert _broken(rows) == rows[1]


def test_a_removed_row_breaks_the_next_one() -> None:
    """Deleting a row leaves its successor pointing at a digest that is gone."""
    rows = _chain("一", "二", "三")
    assert _broken([rows[0], rows[2]]) == rows[2]


def test_the_digest_does_not_depend_on_key_order() -> None:
    """Content is serialised sorted, so a dict built in another order gives the same digest."""
    assert chain_digest("p", {"a": 1, "b": "い"}) == chain_digest("p", {"b": "い", "a": 1})
