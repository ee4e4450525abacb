"""Checks on lists made before any parser opens them: size, type, zip bombs, sheet sizes.

The archive checks run for uploads (`check_archive`) and for `callengine import` (the reader
calls `archive_problem`); the sheet limits (rows, columns, cells) are applied by the reader.
An upload is refused with one Vietnamese line per file that breaks a limit, naming the limit,
and nothing is stored. What passes here still goes through the importer's reader, which
recognises the content (zip, OLE2 or text) and gives its own clear message for a damaged
file, a web page saved as .xls, and so on; this module does not repeat those checks.

For an .xlsx (a zip archive), the central directory is read with `zipfile` and every member's
declared size, the total and each member's compression ratio are checked. Then every member
is inflated into nothing, with the output counted, so that an archive whose directory lies
about its sizes is caught before pandas/calamine trust it.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Sequence

from callengine.errors import CallengineError

ALLOWED_SUFFIXES = (".xlsx", ".xls", ".csv")
CONTENT_TYPES = "[Content_Types].xml"  # every Office Open XML package has it
ZIP_MAGIC = b"PK\x03\x04"
MAX_ZIP_MEMBERS = 10_000  # a real workbook has tens
RATIO_MIN_BYTES = 2**20  # smaller members may be packed tightly without harm
_CHUNK = 2**16
# Defaults of the import_max_* settings: a province's lists are tens of thousands of rows of
# a dozen or two columns; these leave room for that and keep memory to a few hundred MB.
DEFAULT_FILE_SIZE = 20 * 2**20
DEFAULT_REQUEST_SIZE = 40 * 2**20
DEFAULT_UNPACKED_SIZE = 200 * 2**20
DEFAULT_COMPRESSION_RATIO = 100.0
DEFAULT_ROWS = 300_000
DEFAULT_COLUMNS = 256
DEFAULT_CELLS = 6_000_000
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what Excel writes


class UploadRefused(CallengineError):
    """An upload broke a limit; each problem is one line for staff. Nothing was stored."""

    def __init__(self, problems: Sequence[str], code: str = "upload_refused") -> None:
        self.problems = list(problems)
        self.code = code  # too_large (HTTP 413) or bad_type (HTTP 415)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Limits:
    """The limits an upload is checked against (from the import_* settings)."""

    file_size: int = DEFAULT_FILE_SIZE
    request_size: int = DEFAULT_REQUEST_SIZE
    unpacked_size: int = DEFAULT_UNPACKED_SIZE
    compression_ratio: float = DEFAULT_COMPRESSION_RATIO
    rows: int = DEFAULT_ROWS  # of one sheet's used range
    columns: int = DEFAULT_COLUMNS
    cells: int = DEFAULT_CELLS  # rows x columns of one sheet's used range, and cells read

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls(settings.import_max_file_size, settings.import_max_request_size,
                   settings.import_max_unpacked_size, settings.import_max_compression_ratio,
                   settings.import_max_rows, settings.import_max_columns,
                   settings.import_max_cells)


def size_text(size: float) -> str:
    """A size as staff read it: 20 MB, 512 KB."""
    for unit, factor in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0").replace(".", ",") + f" {unit}"
    return f"{int(size)} byte"


def name_suffix(name: str) -> str:
    """'.xlsx' of 'ds.XLSX': the name's extension, lower case, read as text (not a path)."""
    _stem, dot, extension = name.rpartition(".")
    return f".{extension.lower()}" if dot and not set(extension) & set("/\\ ") else ""


def check_request(files: Sequence[tuple[str, int]], limits: Limits) -> None:
    """Refuse an upload whose files, (display name, size), break the type or size limits."""
    too_large = [f"{name}: tệp lớn {size_text(size)}, vượt giới hạn {size_text(limits.file_size)}"
                 " cho mỗi tệp; hãy chia danh sách thành nhiều tệp nhỏ hơn"
                 for name, size in files if size > limits.file_size]
    total = sum(size for _name, size in files)
    if not too_large and total > limits.request_size:
        too_large = [f"Các tệp tải lên tổng cộng {size_text(total)}, vượt giới hạn "
                     f"{size_text(limits.request_size)} cho mỗi lần tải; hãy tải thành nhiều lần"]
    if too_large:
        raise UploadRefused(too_large, "too_large")
    bad_type = [f"{name}: chỉ nhận tệp .xlsx, .xls hoặc .csv"
                for name, _size in files if name_suffix(name) not in ALLOWED_SUFFIXES]
    if bad_type:
        raise UploadRefused(bad_type, "bad_type")
    if not files:
        raise UploadRefused(["Chưa chọn tệp nào để nhập"], "bad_type")


def check_archive(name: str, source: bytes | Path, limits: Limits) -> None:
    """Refuse a zip (an .xlsx) that is not a workbook or would unpack beyond the limits."""
    problem = archive_problem(source, limits)
    if problem is not None:
        reason, code = problem
        raise UploadRefused([f"{name}: {reason}"], code)


def archive_problem(source: bytes | Path, limits: Limits) -> tuple[str, str] | None:
    """(reason, code) if a zip (an .xlsx) is not a workbook or would unpack beyond the
    limits; None for anything else (not a zip, or damaged: the reader says so itself)."""
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    with stream:
        if stream.read(len(ZIP_MAGIC)) != ZIP_MAGIC:
            return None
        stream.seek(0)
        try:
            with zipfile.ZipFile(stream) as archive:
                members = archive.infolist()
            return _members_problem(stream, members, limits)
        except (zipfile.BadZipFile, EOFError, ValueError, zlib.error, struct.error):
            return None


def _members_problem(stream: BinaryIO, members: list[zipfile.ZipInfo],
                     limits: Limits) -> tuple[str, str] | None:
    if CONTENT_TYPES not in {m.filename for m in members} or len(members) > MAX_ZIP_MEMBERS \
            or any(m.compress_type not in _METHODS for m in members):
        return "là tệp nén nhưng không phải bảng tính Excel (.xlsx)", "bad_type"
    declared = sum(m.file_size for m in members)
    if declared > limits.unpacked_size:
        return _bomb(limits)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_MIN_BYTES and ratio > limits.compression_ratio:
            return (f"tỉ lệ nén vượt giới hạn {limits.compression_ratio:g}:1; tệp có thể độc "
                    "hại nên không được mở", "too_large")
    inflated = _inflated_size(stream, members, limits.unpacked_size)
    if inflated > limits.unpacked_size:
        return _bomb(limits)
    if inflated > declared:
        return ("tệp nén bị sửa đổi hoặc hỏng (kích thước khai báo sai); không mở được",
                "bad_type")
    return None


def _bomb(limits: Limits) -> tuple[str, str]:
    return (f"khi giải nén vượt giới hạn {size_text(limits.unpacked_size)}; tệp có thể bị lỗi "
            "hoặc độc hại nên không được mở", "too_large")


def _inflated_size(stream: BinaryIO, members: list[zipfile.ZipInfo], cap: int) -> int:
    """Bytes the members really inflate to, counted up to just past `cap`.

    zipfile stops at a member's declared size, so the compressed stream of each member is
    inflated here instead, the decompressor's output bounded by what is left of `cap`.
    """
    total = 0
    for member in members:
        stream.seek(member.header_offset)
        header = stream.read(30)
        if len(header) < 30 or not header.startswith(ZIP_MAGIC):
            raise zipfile.BadZipFile("bad local header")
        names, extra = struct.unpack("<HH", header[26:30])
        stream.seek(member.header_offset + 30 + names + extra)
        total += _member_size(stream, member, cap - total)
        if total > cap:
            break
    return total


def _member_size(stream: BinaryIO, member: zipfile.ZipInfo, budget: int) -> int:
    """Inflated size of one member, or budget + 1 once it is over budget."""
    if member.compress_type == zipfile.ZIP_STORED:
        return member.compress_size
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    left, size = member.compress_size, 0
    while left > 0 and size <= budget:
        chunk = stream.read(min(_CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)
        size += len(inflater.decompress(chunk, budget + 1 - size))
        while inflater.unconsumed_tail and size <= budget:
            size += len(inflater.decompress(inflater.unconsumed_tail, budget + 1 - size))
    return size
