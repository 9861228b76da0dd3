"""CSV input: strict UTF-8 (BOM and CRLF tolerated), columns by header name, physical line numbers.

A file is read twice: `survey` checks readability, encoding and header over the whole file before anything is
written (and collects what must be known up front, such as duplicate keys); `rows` then streams the records.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app import digits
from app.security_log import refused
from flows.imports.gc_pause import fewer_collections

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
    ends_with_newline: bool = True  # the file's last byte is LF (or the file is empty)
    multiline: bool = False  # some record (or the header) spans several physical lines (a quoted line break)

    @property
    def splits_at_newlines(self) -> bool:
        """Every record is one line ending in LF or CRLF: the file can be cut into blocks at any LF byte."""
        # each LF ends a line, and the last line has one unless the file ends without: a lone CR (a line end to
        # the csv module, not to the blocks' cutting) makes the counts differ
        return not self.multiline and self.newlines == self.lines - (not self.ends_with_newline)

    def duplicates(self) -> set:
        return {key for key, count in self.keys.items() if count > 1}


class _HashingReader(io.RawIOBase):
    def __init__(self, raw, digest):
        self._raw, self._digest = raw, digest
        self.newlines = 0
        self.last = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        self._digest.update(data)
        self.newlines += data.count(b"\n")
        self.last = data[-1:] or self.last
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


def _check_header(header: list[str] | None, expected: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[str]:
    """The header's column names; BadInput unless it holds every `expected` column once, and besides them only
    `optional` ones."""
    if header is None:
        raise BadInput("the file is empty: a header line is expected")
    if header in ([], [""]):  # the reject report counts lines from the header as line 1
        raise BadInput("line 1 is blank: the header line must be the file's first line")
    if len(header) == 1 and len(expected) > 1:
        for separator, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if separator in header[0]:
                raise BadInput(f"the header's columns are separated by {name}: save the file as CSV with "
                               "commas; expected: " + ",".join(expected))
    names = [h.strip().lower() for h in header]
    unknown = _as_names([n for n in names if n not in expected and n not in optional])
    missing = [n for n in expected if n not in names]
    repeated = _as_names(sorted({n for n in names if names.count(n) > 1}))
    problems = [
        f"{label}: {', '.join(values)}"
        for label, values in (("unknown columns", unknown), ("missing columns", missing), ("repeated", repeated))
        if values
    ]
    if problems:
        besides = f" (optional: {','.join(optional)})" if optional else ""
        raise BadInput("wrong header (" + "; ".join(problems) + "); expected: " + ",".join(expected) + besides)
    return names


_COLUMN_NAME = re.compile(r"[a-z_]{1,40}\Z")


def _as_names(values: list[str]) -> list[str]:
    """What a wrong header's message may show of its values: those written like column names. A file without
    its header line has a resident's row there (name, phone, ID number), which the message would print."""
    shown = [v for v in values if _COLUMN_NAME.match(v)]
    hidden = len(values) - len(shown)
    return shown + ([f"{hidden} more not shown (not column names: is the header line missing?)"] if hidden else [])


def _bad_content(path: Path, exc: Exception) -> BadInput:
    if isinstance(exc, UnicodeDecodeError):
        byte = exc.object[exc.start : exc.start + 1].hex().upper()
        return BadInput(f"{path.name} is not UTF-8 (invalid byte 0x{byte}; GBK or Latin-1?): re-save it as UTF-8")
    return BadInput(f"{path.name} is not a readable CSV file: {exc}")


def _numbered(reader, names: list[str], offset: int, foreign: list[int],
              any_foreign: bool = True) -> Iterator[tuple[int, dict | None]]:
    """The reader's records as (offset + physical line of the record's first line, {column: value} or None for
    a ragged row), blank lines skipped; counts in foreign[0] the records holding a non-ASCII digit (none when
    the caller knows there is none: `any_foreign` False)."""
    width, previous = len(names), reader.line_num
    for record in reader:
        line, previous = previous + 1, reader.line_num
        if not record or record == [""]:
            continue
        joined = "".join(record)
        if any_foreign and digits.foreign_digit_unmapped(joined):
            foreign[0] += 1
        # a NUL can be in no stored text (PostgreSQL refuses it): the row is malformed, like a ragged one
        well_formed = len(record) == width and "\x00" not in joined
        # the lengths are equal (checked): no strict zip's check again
        yield offset + line, (dict(zip(names, record, strict=False)) if well_formed else None)


def log_foreign_digits(source: str, count: int) -> None:
    """One security log line for the rows holding a non-ASCII digit (the validators reject them)."""
    if count:
        refused("ascii_digits", actor="import", source=source, rows=count)


def rows(path: Path, expected: tuple[str, ...],
         optional: tuple[str, ...] = ()) -> Iterator[tuple[int, dict[str, str] | None]]:
    """Yield (physical line number of the record's first line, {column: value}); None for a ragged row. An
    `optional` column the file does not have is not in the dict."""
    foreign = [0]
    with _open_text(path) as text:
        reader = csv.reader(text)
        try:
            names = _check_header(next(reader, None), expected, optional)
            yield from _numbered(reader, names, 0, foreign)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _bad_content(path, exc) from None
    log_foreign_digits(path.name, foreign[0])


def line_blocks(path: Path, size: int = _CHUNK) -> Iterator[tuple[int, bytes]]:
    """The records after the header in blocks of about `size` bytes cut at line ends: (physical line number of
    the block's first line, its bytes). Only for a file whose survey `splits_at_newlines`."""
    with _open_binary(path) as raw:
        raw.readline()  # the header
        yield from _blocks(raw, size)


def line_spans(path: Path, size: int = _CHUNK) -> Iterator[tuple[int, int, int]]:
    """`line_blocks` as (physical line number of the block's first line, byte offset, length): what a worker
    process is sent to read the block itself (`read_span`). A pipe holds 64 KiB: blocks of a megabyte sent
    through it kept the importing process waiting on a worker that an interrupt had ended."""
    with _open_binary(path) as raw:
        offset = len(raw.readline())  # the header
        for line, block in _blocks(raw, size):
            yield line, offset, len(block)
            offset += len(block)


def read_span(path: str, offset: int, length: int) -> bytes:
    with open(path, "rb") as raw:
        raw.seek(offset)
        return raw.read(length)


def _blocks(raw, size: int, line: int = 2) -> Iterator[tuple[int, bytes]]:
    rest = b""
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
    text = block.decode("utf-8")
    any_foreign = digits.foreign_digit_unmapped_in_utf8(block)  # usually none: then no row need be asked
    if _plain(block):
        return _plain_rows(text, names, first_line, any_foreign)
    foreign = [0]
    reader = csv.reader(io.StringIO(text, newline=""))
    return list(_numbered(reader, names, first_line - 1, foreign, any_foreign)), foreign[0]


def _plain_records(lines: list[str], first_line: int) -> Iterator[tuple[int, list[str]]]:
    """The records of a `_plain` block's lines (its text split at LF) as the csv module reads them, without it:
    (physical line number, the line's fields split at commas), blank lines skipped."""
    for line_number, line in enumerate(lines, first_line):
        line = line.removesuffix("\r")
        if line:  # a blank line is no record
            yield line_number, line.split(",")


def _plain_rows(text: str, names: list[str], first_line: int,
                any_foreign: bool) -> tuple[list[tuple[int, dict | None]], int]:
    """`block_rows` of a `_plain` block without the csv module."""
    width, numbered, foreign = len(names), [], 0
    for line_number, record in _plain_records(text.split("\n"), first_line):
        if any_foreign and digits.foreign_digit_unmapped("".join(record)):
            foreign += 1
        numbered.append((line_number, dict(zip(names, record, strict=False)) if len(record) == width else None))
    return numbered, foreign


def _key_reader(names: list[str], key: Callable[[dict], object] | None) -> Callable[[list], object]:
    """A record's survey key (None for none, or a record of the wrong width). A key that declares the columns it
    reads (`key.columns`) gets only those: no full dict per row."""
    if key is None:
        return lambda _record: None
    width = len(names)
    wanted = [(c, names.index(c)) for c in getattr(key, "columns", ())]

    def key_of(record: list) -> object:
        if len(record) != width:
            return None
        return key({c: record[i] for c, i in wanted} if wanted else dict(zip(names, record, strict=True)))

    return key_of


def _tally(reader, names: list[str], key: Callable[[dict], object] | None,
           add: Callable[[object], None]) -> tuple[int, bool, list | None]:
    """The survey's pass over the reader's records: (records, whether one spanned several physical lines, the
    last record); each well-formed record's key, when it has one, goes to `add`."""
    key_of, count, multiline, last = _key_reader(names, key), 0, False, None
    previous = reader.line_num
    for record in reader:
        if reader.line_num - previous > 1:
            multiline = True
        previous = reader.line_num
        if not record or record == [""]:
            continue
        count, last = count + 1, record
        if (k := key_of(record)) is not None:
            add(k)
    return count, multiline, last


def survey(path: Path, expected: tuple[str, ...], key: Callable[[dict], object] | None = None,
           optional: tuple[str, ...] = ()) -> Survey:
    """Read the whole file once: raise BadInput for what makes it unimportable; count rows and keys."""
    digest = hashlib.sha256()
    result = Survey(sha256="")
    keys = result.keys

    def add(k) -> None:
        keys[k] = keys.get(k, 0) + 1

    with _open_text(path, digest) as text:
        hashing = text.buffer.raw
        reader = csv.reader(text)
        try:
            names = result.names = _check_header(next(reader, None), expected, optional)
            result.multiline = reader.line_num > 1
            result.rows, multiline, _ = _tally(reader, names, key, add)
            result.multiline |= multiline
        except (UnicodeDecodeError, csv.Error) as exc:
            raise _bad_content(path, exc) from None
    result.sha256, result.lines, result.newlines = digest.hexdigest(), reader.line_num, hashing.newlines
    result.ends_with_newline = hashing.last in (b"", b"\n")
    return result


def _breaks_line(record: list | None) -> bool:
    return record is not None and any("\n" in f or "\r" in f for f in record)


def survey_block(block: bytes, names: list[str], key: Callable[[dict], object] | None,
                 file_name: str) -> tuple[str | None, int, int, list] | None:
    """`survey` of one block of whole lines (`survey_in_blocks`, in a worker process): (the file's first problem
    in it as BadInput's words or None, records, physical lines, keys); None when a record spans lines or the
    block ends inside a quoted field (the cut split a record: the file is surveyed whole instead)."""
    with fewer_collections():  # a dict a row for the key
        return _survey_block(block, names, key, file_name)


def _survey_block(block: bytes, names: list[str], key: Callable[[dict], object] | None,
                  file_name: str) -> tuple[str | None, int, int, list] | None:
    keys: list = []
    try:
        text = block.decode("utf-8")
        if _plain(block):
            count, lines = _tally_plain(text, names, key, keys.append)
            return None, count, lines, keys
        reader = csv.reader(io.StringIO(text, newline=""))
        count, multiline, last = _tally(reader, names, key, keys.append)
    except (UnicodeDecodeError, csv.Error) as exc:
        return str(_bad_content(Path(file_name), exc)), 0, 0, []
    if multiline or _breaks_line(last):
        return None
    return None, count, reader.line_num, keys


def _plain(block: bytes) -> bool:
    """No quote, no NUL and no carriage return but in CRLF: the csv module would read each line as its fields
    split at commas."""
    return b'"' not in block and b"\x00" not in block and block.count(b"\r") == block.count(b"\r\n")


def _tally_plain(text: str, names: list[str], key: Callable[[dict], object] | None,
                 add: Callable[[object], None]) -> tuple[int, int]:
    """`_tally` of a `_plain` block's text without the csv module (a third of its time): (records, lines)."""
    lines = text.split("\n")
    physical = len(lines) - (lines[-1] == "")  # a final line end ends the last line, it does not start one
    key_of, count = _key_reader(names, key), 0
    for _, record in _plain_records(lines, 1):
        count += 1
        if (k := key_of(record)) is not None:
            add(k)
    return count, physical


def survey_span(path: str, offset: int, length: int, names: list[str], key: Callable[[dict], object] | None,
                file_name: str) -> tuple[str | None, int, int, list] | None:
    """`survey_block` of the block at `offset` (read here: in a worker process)."""
    return survey_block(read_span(path, offset, length), names, key, file_name)


def survey_in_blocks(path: Path, expected: tuple[str, ...], key: Callable[[dict], object] | None,
                     map_blocks: Callable, size: int = _CHUNK, optional: tuple[str, ...] = ()) -> Survey | None:
    """`survey`'s result, the records' part computed block by block by `map_blocks(blocks)` — which applies
    `survey_span` to each (path, offset, length, names, key, file name) and yields the outcomes in order (worker
    processes) —
    while this process hashes the bytes and counts the line ends. None when the header or a record spans
    lines (or cannot be read on its own line): `survey` reads that file whole."""
    digest, result = hashlib.sha256(), Survey(sha256="", keys=Counter())
    with _open_binary(path) as raw:
        head = raw.readline()
        header = _one_line_record(head)
        if header is None:
            return None
        names = result.names = _check_header(header, expected, optional)
        digest.update(head)
        result.newlines, result.lines = head.count(b"\n"), 1
        last = head[-1:]

        def blocks() -> Iterator[tuple]:
            nonlocal last
            offset = len(head)
            for _, block in _blocks(raw, size):
                digest.update(block)
                result.newlines += block.count(b"\n")
                last = block[-1:]
                yield str(path), offset, len(block), names, key, path.name
                offset += len(block)

        outcomes = map_blocks(blocks())
        try:
            for outcome in outcomes:
                if outcome is None:
                    return None
                problem, count, lines, keys = outcome
                if problem:
                    raise BadInput(problem)
                result.rows, result.lines = result.rows + count, result.lines + lines
                result.keys.update(keys)
        finally:
            outcomes.close()
    result.sha256, result.ends_with_newline = digest.hexdigest(), last in (b"", b"\n")
    return result


def _one_line_record(head: bytes) -> list[str] | None:
    """The header line as `survey` reads it, or None when it is not one record on one line of UTF-8."""
    try:
        records = list(csv.reader(io.StringIO(head.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None
    if len(records) > 1 or (records and _breaks_line(records[0])):
        return None
    return records[0] if records else None
