"""A population file surveyed block by block (`csvfile.survey_in_blocks`, the import's worker processes) gives
exactly what `csvfile.survey` gives reading it whole — rows, physical lines, line ends, keys and their counts,
SHA-256 — or None when a record spans lines (a cut at a line end could split it), and the same BadInput words.
Tiny blocks, so that every file here is cut many times."""

from __future__ import annotations

from unittest.mock import patch

import pytest

from flows.imports.csvfile import (
    BadInput,
    block_rows,
    line_blocks,
    line_spans,
    read_span,
    rows,
    survey,
    survey_in_blocks,
    survey_span,
)
from flows.imports.validation import POPULATION_COLUMNS, id_key

HEADER = ",".join(POPULATION_COLUMNS)


def _row(n: int, **fields) -> str:
    values = {"id_number": f"11010519491231{n:04d}", "name": "王秀英", "sex": "F", "birth_date": "1949-12-31",
              "household_id": "H1", "relation_to_head": "户主", "district_code": "140105",
              "street_code": "140105001", "community_code": "140105001001", "hukou_local": "true",
              "phone": "", "death_date": "", **fields}
    return ",".join(values[c] for c in POPULATION_COLUMNS)


def _in_order(tasks):
    return (survey_span(*task) for task in tasks)


def _both(path, size):
    whole = survey(path, POPULATION_COLUMNS, id_key)
    blocks = survey_in_blocks(path, POPULATION_COLUMNS, id_key, _in_order, size)
    return whole, blocks


ROWS = [_row(n) for n in range(60)]
FILES = {
    "plain": HEADER + "\n" + "\n".join(ROWS) + "\n",
    "crlf, BOM, no final line end": "\ufeff" + HEADER + "\r\n" + "\r\n".join(ROWS),
    "blank lines and a ragged row": HEADER + "\n\n" + "\n".join(ROWS[:20]) + "\n\nonly,three,fields\n\n"
                                    + "\n".join(ROWS[20:]) + "\n",
    "an ID number three times, far apart, one in full width": HEADER + "\n" + "\n".join(
        [*ROWS, _row(7), _row(8, id_number="１１０１０５１９４９１２３１０００７")]) + "\n",
    "quoted fields on one line each": HEADER + "\n" + "\n".join(
        _row(n, name='"王, 秀英"', household_id='"H""1"""') for n in range(60)) + "\n",
    "a lone carriage return": HEADER + "\n" + "\n".join(ROWS[:30]) + "\r" + "\n".join(ROWS[30:]) + "\n",
}


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("size", [1, 97, 400, 1 << 20])
def test_blocks_give_what_the_whole_file_gives(tmp_path, name, size):
    path = tmp_path / "p.csv"
    path.write_bytes(FILES[name].encode())
    whole, blocks = _both(path, size)
    assert blocks is not None
    assert (blocks.rows, blocks.lines, blocks.newlines, blocks.sha256, blocks.names, blocks.multiline,
            blocks.ends_with_newline) == (whole.rows, whole.lines, whole.newlines, whole.sha256, whole.names,
                                          whole.multiline, whole.ends_with_newline)
    assert dict(blocks.keys) == whole.keys and blocks.duplicates() == whole.duplicates()
    assert blocks.splits_at_newlines == whole.splits_at_newlines == (name != "a lone carriage return")


@pytest.mark.parametrize("size", [1, 97, 400, 1 << 20])
def test_a_record_over_two_lines_is_left_to_the_whole_file(tmp_path, size):
    rows = list(ROWS)
    rows[25] = _row(25, name='"王\n秀英"')
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    whole, blocks = _both(path, size)
    assert whole.multiline and blocks is None
    path.write_text('"id_number\n",' + HEADER.split(",", 1)[1] + "\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    assert survey_in_blocks(path, POPULATION_COLUMNS, id_key, _in_order, size) is None


@pytest.mark.parametrize("size", [1, 400])
def test_a_byte_that_is_not_utf8_is_refused_in_the_same_words(tmp_path, size):
    path = tmp_path / "p.csv"
    path.write_bytes((HEADER + "\n" + "\n".join(ROWS[:30]) + "\n").encode() + "李".encode("gbk") + b"\n"
                     + "\n".join(ROWS[30:]).encode())
    with pytest.raises(BadInput) as whole:
        survey(path, POPULATION_COLUMNS, id_key)
    with pytest.raises(BadInput) as blocks:
        survey_in_blocks(path, POPULATION_COLUMNS, id_key, _in_order, size)
    assert str(blocks.value) == str(whole.value) and "not UTF-8" in str(whole.value)


FILES["a foreign digit, a NUL"] = HEADER + "\n" + "\n".join(
    [*ROWS[:10], _row(10, household_id="H٣٣"), _row(11, name="王\x00"), *ROWS[12:]]) + "\n"


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("size", [1, 97, 400, 1 << 20])
def test_a_file_s_blocks_give_the_rows_the_whole_file_gives(tmp_path, name, size):
    """What a worker loads (`block_rows` of each `line_blocks` block) is what the import in one process reads
    (`rows`): the same (line, record) pairs, ragged and NUL rows as None, the same count of foreign digits —
    for every file the survey lets several processes load."""
    path = tmp_path / "p.csv"
    path.write_bytes(FILES[name].encode())
    whole = survey(path, POPULATION_COLUMNS)
    if not whole.splits_at_newlines:
        pytest.skip("such a file is loaded in one process")  # a lone CR ends a line the blocks do not cut at
    names, pairs, foreign = whole.names, [], 0
    for (first_line, block), (span_line, offset, length) in zip(line_blocks(path, size), line_spans(path, size),
                                                                strict=True):
        assert (span_line, read_span(str(path), offset, length)) == (first_line, block)
        numbered, count = block_rows(block, names, first_line)
        pairs, foreign = pairs + numbered, foreign + count
    with patch("flows.imports.csvfile.log_foreign_digits") as logged:
        assert pairs == list(rows(path, POPULATION_COLUMNS))
    assert foreign == (logged.call_args.args[1] if logged.called else 0)
    assert foreign == (1 if name == "a foreign digit, a NUL" else 0)
