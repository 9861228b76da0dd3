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


class BadInput(Exception):
    """The file cannot be imported at all (unreadable, not UTF-8, wrong header): nothing is written."""


@dataclass
class Survey:
    sha256: str
    rows: int = 0
    keys: dict = field(default_factory=dict)

    def duplicates(self) -> set:
        return {key for key, count in self.keys.items() if count > 1}


class _HashingReader(io.RawIOBase):
    def __init__(self, raw, digest):
        self._raw, self._digest = raw, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        self._digest.update(data)
        buffer[: len(data)] = data
        return len(data)


def _open_text(path: Path, digest=None):
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the TextIOWrapper
    except OSError as exc:
        raise BadInput(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if path.is_dir():
        raw.close()
        raise BadInput(f"cannot read {path.name}: is a directory")
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


def rows(path: Path, expected: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str] | None]]:
    """Yield (physical line number of the record's first line, {column: value}); None for a ragged row."""
    foreign = 0  # rows holding a non-ASCII digit: the validators reject them; one security log line
    with _open_text(path) as text:
        reader = csv.reader(text)
        try:
            names = _check_header(next(reader, None), expected)
            width, previous = len(names), reader.line_num
            for record in reader:
                line, previous = previous + 1, reader.line_num
                if not record or record == [""]:
                    continue
                if digits.foreign_digit_unmapped("".join(record)):
                    foreign += 1
                yield line, (dict(zip(names, record, strict=True)) if len(record) == width else None)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _bad_content(path, exc) from None
    if foreign:
        refused("ascii_digits", actor="import", source=path.name, rows=foreign)


def survey(path: Path, expected: tuple[str, ...], key: Callable[[dict], object] | None = None) -> Survey:
    """Read the whole file once: raise BadInput for what makes it unimportable; count rows and keys."""
    digest = hashlib.sha256()
    result = Survey(sha256="")
    with _open_text(path, digest) as text:
        reader = csv.reader(text)
        try:
            names = _check_header(next(reader, None), expected)
            keys, width = result.keys, len(names)
            # a key that declares the columns it reads (`key.columns`) gets only those: no full dict per row
            wanted = [(c, names.index(c)) for c in getattr(key, "columns", ())]
            for record in reader:
                if not record or record == [""]:
                    continue
                result.rows += 1
                if key is not None and len(record) == width:
                    k = key({c: record[i] for c, i in wanted} if wanted else dict(zip(names, record, strict=True)))
                    if k is not None:
                        keys[k] = keys.get(k, 0) + 1
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _bad_content(path, exc) from None
    result.sha256 = digest.hexdigest()
    return result
