"""CSV input: strict UTF-8 (BOM and CRLF tolerated), columns by header name, physical line numbers.

A file is read twice: `survey` checks readability, encoding and header over the whole file before anything is
written (and collects what must be known up front, such as duplicate keys); `rows` then streams the records.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app import digits
from app.security_log import refused

_CHUNK = 1 << 20
# The csv module refuses a field over 128 KiB, and with it the whole file: read up to 16 MiB, and let the field's
# own check refuse the row (a 200 KB name is NAME_INVALID, the rest of the file imported).
csv.field_size_limit(16 << 20)


class BadInput(Exception):
    """The file cannot be imported at all (unreadable, not UTF-8, wrong header): nothing is written."""


@dataclass
class Survey:
    sha256: str
    rows: int = 0
    names: list[str] = field(default_factory=list)  # the header's column names, in the file's order
    keys: dict = field(default_factory=dict)
    lines: int = 0  # physical lines, as the CSV reader counts them (LF, CRLF or a lone CR end one)
    newlines: int = 0  # LF bytes in the file
    multiline: bool = False  # some record (or the header) spans several physical lines (a quoted line break)

    @property
    def splits_at_newlines(self) -> bool:
        """Every record is one line ending in LF or CRLF: the file can be cut into blocks at any LF byte."""
        return not self.multiline and self.newlines in (self.lines, self.lines - 1)

    def duplicates(self) -> set:
        return {key for key, count in self.keys.items() if count > 1}


class _HashingReader(io.RawIOBase):
    def __init__(self, raw, digest):
        self._raw, self._digest = raw, digest
        self.newlines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        self._digest.update(data)
        self.newlines += data.count(b"\n")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open_binary(path: Path):
    try:
        raw = open(path, "rb")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        raise BadInput(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if path.is_dir():
        raw.close()
        raise BadInput(f"cannot read {path.name}: is a directory")
    return raw


def _open_text(path: Path, digest=None):
    raw = _open_binary(path)
    stream = io.BufferedReader(_HashingReader(raw, digest), _CHUNK) if digest else raw
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")


def _check_header(header: list[str] | None, expected: tuple[str, ...]) -> list[str]:
    if not header:
        raise BadInput("the file is empty: a header line is expected")
    names = [h.strip().lower() for h in header]
    unknown = [n for n in names if n not in expected]
    missing = [n for n in expected if n not in names]
    repeated = sorted({n for n in names if names.count(n) > 1})
    problems = [
        f"{label}: {', '.join(values)}"
        for label, values in (("unknown columns", unknown), ("missing columns", missing), ("repeated", repeated))
        if values
    ]
    if problems:
        raise BadInput("wrong header (" + "; ".join(problems) + "); expected: " + ",".join(expected))
    return names


def _bad_content(path: Path, exc: Exception) -> BadInput:
    if isinstance(exc, UnicodeDecodeError):
        byte = exc.object[exc.start : exc.start + 1].hex().upper()
        return BadInput(f"{path.name} is not UTF-8 (invalid byte 0x{byte}; GBK or Latin-1?): re-save it as UTF-8")
    return BadInput(f"{path.name} is not a readable CSV file: {exc}")


def _numbered(reader, names: list[str], offset: int, foreign: list[int]) -> Iterator[tuple[int, dict | None]]:
    """The reader's records as (offset + physical line of the record's first line, {column: value} or None for
    a ragged row), blank lines skipped; counts in foreign[0] the records holding a non-ASCII digit."""
    width, previous = len(names), reader.line_num
    for record in reader:
        line, previous = previous + 1, reader.line_num
        if not record or record == [""]:
            continue
        joined = "".join(record)
        if digits.foreign_digit_unmapped(joined):
            foreign[0] += 1
        # a NUL can be in no stored text (PostgreSQL refuses it): the row is malformed, like a ragged one
        well_formed = len(record) == width and "\x00" not in joined
        yield offset + line, (dict(zip(names, record, strict=True)) if well_formed else None)


def log_foreign_digits(source: str, count: int) -> None:
    """One security log line for the rows holding a non-ASCII digit (the validators reject them)."""
    if count:
        refused("ascii_digits", actor="import", source=source, rows=count)


def rows(path: Path, expected: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str] | None]]:
    """Yield (physical line number of the record's first line, {column: value}); None for a ragged row."""
    foreign = [0]
    with _open_text(path) as text:
        reader = csv.reader(text)
        try:
            names = _check_header(next(reader, None), expected)
            yield from _numbered(reader, names, 0, foreign)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _bad_content(path, exc) from None
    log_foreign_digits(path.name, foreign[0])


def line_blocks(path: Path, size: int = _CHUNK) -> Iterator[tuple[int, bytes]]:
    """The records after the header in blocks of about `size` bytes cut at line ends: (physical line number of
    the block's first line, its bytes). Only for a file whose survey `splits_at_newlines`."""
    with _open_binary(path) as raw:
        raw.readline()  # the header
        line, rest = 2, b""
        while chunk := raw.read(size):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if not cut:
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            yield line, block
            line += block.count(b"\n")
        if rest:
            yield line, rest


def block_rows(block: bytes, names: list[str], first_line: int) -> tuple[list[tuple[int, dict | None]], int]:
    """A block of `line_blocks` as `rows` gives it: ((line, record or None), …) and how many records hold a
    non-ASCII digit. The survey has read the whole file: it decodes and parses."""
    foreign = [0]
    reader = csv.reader(io.StringIO(block.decode("utf-8"), newline=""))
    return list(_numbered(reader, names, first_line - 1, foreign)), foreign[0]


def survey(path: Path, expected: tuple[str, ...], key: Callable[[dict], object] | None = None) -> Survey:
    """Read the whole file once: raise BadInput for what makes it unimportable; count rows and keys."""
    digest = hashlib.sha256()
    result = Survey(sha256="")
    with _open_text(path, digest) as text:
        hashing = text.buffer.raw
        reader = csv.reader(text)
        try:
            names = result.names = _check_header(next(reader, None), expected)
            keys, width = result.keys, len(names)
            # a key that declares the columns it reads (`key.columns`) gets only those: no full dict per row
            wanted = [(c, names.index(c)) for c in getattr(key, "columns", ())]
            previous = reader.line_num
            result.multiline = previous > 1
            for record in reader:
                if reader.line_num - previous > 1:
                    result.multiline = True
                previous = reader.line_num
                if not record or record == [""]:
                    continue
                result.rows += 1
                if key is not None and len(record) == width:
                    k = key({c: record[i] for c, i in wanted} if wanted else dict(zip(names, record, strict=True)))
                    if k is not None:
                        keys[k] = keys.get(k, 0) + 1
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _bad_content(path, exc) from None
    result.sha256, result.lines, result.newlines = digest.hexdigest(), reader.line_num, hashing.newlines
    return result
