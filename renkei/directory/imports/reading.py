"""Reading: bytes -> text -> rows, with the whole-file checks that refuse a file."""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from renkei.directory.imports.columns import KAIGO_COLUMNS, REQUIRED, _aliased, _hkey
from renkei.directory.imports.results import (
    FORMAT_LABELS,
    IRYOU_FACILITY,
    IRYOU_HOURS,
    KAIGO,
    MAX_UNZIPPED_BYTES,
    NOT_IMPORTED,
    FileRefused,
)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """The text of an upload and the encoding used; FileRefused when it is not a readable CSV."""
    if not data.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise FileRefused("ファイルが空です。" + NOT_IMPORTED)
    if data.startswith(b"PK\x03\x04"):
        data = _unzip(data)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(
            "UTF-16 のファイルには対応していません。UTF-8 または Shift_JIS の CSV で保存し直してください。"
            + NOT_IMPORTED
        )
    text: str | None = None
    encoding = "utf-8"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if data.startswith(codecs.BOM_UTF8):
            raise FileRefused(
                f"UTF-8 として読めないバイトがあります（先頭から{e.start}バイト目）。ファイルが壊れている可能性があります。"
                + NOT_IMPORTED
            ) from e
    if text is None:
        try:
            text, encoding = data.decode("cp932"), "cp932"
        except UnicodeDecodeError as e:
            if _looks_like_euc(data):
                raise FileRefused(
                    "文字コードが EUC-JP のようです。UTF-8 または Shift_JIS で保存し直してください。"
                    + NOT_IMPORTED
                ) from e
            raise FileRefused(
                "文字コードを読み取れません。UTF-8（BOM付き・なし）または Shift_JIS の CSV を指定してください。"
                + NOT_IMPORTED
            ) from e
    if _is_binary(text):
        raise FileRefused("CSV ではないファイル（バイナリ）のようです。" + NOT_IMPORTED)
    # CP932 decodes 0x8160 as U+FF5E while the published UTF-8 files use U+301C (〜).
    return text.replace("\uff5e", "\u301c"), encoding


def _looks_like_euc(data: bytes) -> bool:
    try:
        head = data[:4096].decode("euc_jp", errors="strict")
    except UnicodeDecodeError:
        return False
    return any(k in _hkey(head) for k in ("事業所", "正式名称", "診療科目", "都道府県"))


def _is_binary(text: str) -> bool:
    sample = text[:4096]
    return any(unicodedata.category(c) == "Cc" and c not in "\r\n\t" for c in sample)


def _unzip(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            if "[Content_Types].xml" in names:
                raise FileRefused(
                    "Excel 形式（.xlsx）のファイルです。CSV 形式で保存してから取り込んでください。"
                    + NOT_IMPORTED
                )
            csvs = [n for n in names if n.lower().endswith(".csv")]
            if len(csvs) != 1:
                raise FileRefused(
                    f"ZIP の中に CSV ファイルが1つだけ入っている必要があります（見つかった CSV: {len(csvs)}件）。"
                    + NOT_IMPORTED
                )
            if zf.getinfo(csvs[0]).file_size > MAX_UNZIPPED_BYTES:
                raise FileRefused(
                    f"ZIP の中の CSV が大きすぎます（上限 {MAX_UNZIPPED_BYTES // 1_000_000:,}MB）。"
                    + NOT_IMPORTED
                )
            return zf.read(csvs[0])
    except zipfile.BadZipFile as e:
        raise FileRefused("ZIP ファイルが壊れています。" + NOT_IMPORTED) from e


@dataclass
class Table:
    """A decoded CSV that passed the structural checks."""

    format: str
    header: list[str]
    text: str
    total_rows: int
    encoding: str

    @property
    def index(self) -> dict[str, int]:
        return {_hkey(h): i for i, h in enumerate(self.header)}

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(physical line number where the record starts, fields) for each data row."""
        reader = csv.reader(io.StringIO(self.text, newline=""), strict=True)
        next(reader)
        last = reader.line_num
        for row in reader:
            start, last = last + 1, reader.line_num
            if row:
                yield start, row


def read_table(data: bytes, *, filename: str = "", fmt: str = "auto") -> Table:
    """Decode, detect the format and check every line's structure; FileRefused if anything is off."""
    text, encoding = decode_bytes(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as e:
        raise FileRefused("1行目（見出し行）を読み取れません。" + NOT_IMPORTED) from e
    header = [h.strip() for h in header]
    fmt = _check_header(header, fmt, data if encoding == "cp932" else None)
    width = len(header)
    count = 0
    last = reader.line_num
    try:
        for row in reader:
            start, last = last + 1, reader.line_num
            if not row:
                continue
            if len(row) != width:
                raise FileRefused(
                    f"{start}行目の列数が{len(row)}列で、見出しの{width}列と合いません。"
                    "ファイルが途中で切れているか、区切り（カンマ・引用符）が壊れています。"
                    + NOT_IMPORTED
                )
            count += 1
    except csv.Error as e:
        raise FileRefused(
            f"{last + 1}行目を CSV として読み取れません（引用符が閉じていない、またはファイルが途中で切れています）。"
            + NOT_IMPORTED
        ) from e
    if count == 0:
        raise FileRefused("データ行がありません（見出し行だけのファイルです）。" + NOT_IMPORTED)
    return Table(format=fmt, header=header, text=text, total_rows=count, encoding=encoding)


def _check_header(header: list[str], fmt: str, cp932_data: bytes | None) -> str:
    keys = [_hkey(h) for h in header]
    dupes = sorted({h for h in keys if h and keys.count(h) > 1})
    if dupes:
        raise FileRefused(f"見出し「{'」「'.join(dupes)}」が重複しています。" + NOT_IMPORTED)
    present = set(keys)
    if fmt == "auto":
        detected = detect_format(header)
        if detected is None:
            if cp932_data is not None and _looks_like_euc(cp932_data):
                raise FileRefused(
                    "文字コードが EUC-JP のようです。UTF-8 または Shift_JIS で保存し直してください。"
                    + NOT_IMPORTED
                )
            if any(k.startswith(("営業日", "薬局の")) for k in keys):
                raise FileRefused(
                    "医療情報ネットの薬局のファイルには対応していません。" + NOT_IMPORTED
                )
            if any("就業時間帯" in k or "休業" in k for k in keys):
                raise FileRefused(
                    "医療情報ネットの助産所のファイルには対応していません。" + NOT_IMPORTED
                )
            shown = "」「".join(h[:20] for h in header[:4])
            raise FileRefused(
                f"1行目の見出し（「{shown}」…）から形式を判別できません。"
                "介護サービス情報公表、医療情報ネットの施設票、または診療科・診療時間票の CSV を指定してください。"
                + NOT_IMPORTED
            )
        fmt = detected
    if fmt not in FORMAT_LABELS:
        raise FileRefused(f"形式「{fmt}」には対応していません。")
    missing = [c for c in REQUIRED[fmt] if _hkey(c) not in present and not _aliased(c, present)]
    if missing:
        raise FileRefused(
            f"{FORMAT_LABELS[fmt]}の CSV に必要な列がありません: {'、'.join(missing)}。"
            + NOT_IMPORTED
        )
    return fmt


def detect_format(header: list[str]) -> str | None:
    """kaigo: the 24-column 公表 header; iryou facility: 正式名称 + 所在地座標（緯度）; hours: 診療科目コード."""
    keys = {_hkey(h) for h in header}
    if _hkey("診療科目コード") in keys:
        return IRYOU_HOURS
    if _hkey("正式名称") in keys and _hkey("所在地座標（緯度）") in keys:
        return IRYOU_FACILITY
    kaigo_hits = sum(1 for c in KAIGO_COLUMNS if _hkey(c) in keys or _aliased(c, keys))
    if _hkey("事業所番号") in keys and kaigo_hits >= len(KAIGO_COLUMNS) // 2:
        return KAIGO
    return None
