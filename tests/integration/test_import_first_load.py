"""Issue 17 item 1: a first load into an empty `residents` builds its secondary indexes after the rows (and says
how long that took); a load killed before that leaves the next import to build the missing ones first."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.db import make_engine
from app.models import Resident
from flows.imports.first_load import index_names
from tests.integration.test_import_population import person, summary, write_csv

SECONDARY = {ix.name for ix in Resident.__table__.indexes if not ix.unique}


@pytest.fixture
def engine(cfg):
    return make_engine(cfg.database_url)


def _indexes(engine) -> set[str]:
    with engine.connect() as conn:
        return index_names(conn, "residents")


def test_first_load_builds_the_secondary_indexes_after_the_rows(cli, engine, tmp_path):
    assert SECONDARY and SECONDARY <= _indexes(engine)
    first = summary(cli("import", "population", str(write_csv(tmp_path / "p.csv", [person(n) for n in range(1, 40)]))))
    assert first["imported"] == "39" and float(first["index_seconds"]) >= 0, first
    assert SECONDARY <= _indexes(engine)
    # the table is no longer empty: the next import keeps the indexes as they are and says nothing of them
    again = summary(cli("import", "population", str(write_csv(tmp_path / "q.csv", [person(n) for n in range(30, 50)]))))
    assert (again["imported"], again["unchanged"]) == ("10", "10") and "index_seconds" not in again, again


def test_indexes_a_killed_first_load_left_unbuilt_are_built_by_the_next_import(cli, engine, tmp_path):
    summary(cli("import", "population", str(write_csv(tmp_path / "p.csv", [person(1)]))))
    with engine.begin() as conn:  # what a SIGKILL between the rows and the index build leaves
        conn.execute(text("DROP INDEX ix_residents_household_id"))
    assert "ix_residents_household_id" not in _indexes(engine)
    result = summary(cli("import", "population", str(write_csv(tmp_path / "q.csv", [person(2)]))))
    assert result["imported"] == "1" and "index_seconds" in result, result
    assert SECONDARY <= _indexes(engine)


def test_a_first_load_writer_that_meets_a_row_inserted_meanwhile_writes_the_batch_again_with_its_look_up(
        cli, cfg, engine, tmp_path):
    """A first load skips the look-up (the table was empty when it began); a resident someone else inserted since
    then makes the unique ID hash refuse the batch, which is written again with the look-up: nothing lost, nothing
    twice, no error."""
    from app.crypto import cipher_for
    from flows.imports.batch import local_today
    from flows.imports.validation import validate_person
    from flows.imports.writer import ResidentWriter

    summary(cli("import", "population", str(write_csv(tmp_path / "p.csv", [person(3)]))))  # "meanwhile"
    today = local_today(cfg)
    records = [validate_person(person(n), today)[0] for n in range(1, 6)]
    writer = ResidentWriter(engine, cipher_for(cfg), today, all_new=True)
    counts = writer.write(records)
    assert (counts.imported, counts.updated, counts.unchanged) == (4, 0, 1) and not writer.all_new
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*), count(DISTINCT id_hash) FROM residents")).one()
    assert tuple(stored) == (5, 5)
