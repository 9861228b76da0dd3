"""The schema comes only from migrations: one head, and the models match it exactly."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.db import Base, make_engine
from app.migrate import head_revisions, is_at_head


def test_there_is_one_head_and_the_test_database_is_at_it(db_url):
    assert len(head_revisions()) == 1
    assert is_at_head(db_url)


def test_models_and_migrations_agree(db_url):
    """Exactly, but for what PostgreSQL's monthly partitions hold another way (app/partitions.py): the partitions
    themselves, the unique constraints listed in PG_CONSTRAINTS (kept across months by `unique_keys`, or
    widened by the month) and the indexes in PG_INDEXES (where SQLite's unique constraint is the index)."""
    from app.partitions import PARTITIONED, PG_CONSTRAINTS, PG_INDEXES, month_of_partition

    with make_engine(db_url).connect() as conn:
        pg = conn.dialect.name == "postgresql"
        allowed = {n for pair in PG_CONSTRAINTS.items() for n in pair if n} if pg else set()

        def include(obj, name, type_, reflected, compare_to):
            if type_ == "table" and reflected and (month_of_partition(name or "") or
                                                   (name or "").removesuffix("_default") in PARTITIONED):
                return False
            return not (type_ == "unique_constraint" and name in allowed
                        or pg and type_ == "index" and reflected and name in PG_INDEXES)

        context = MigrationContext.configure(conn, opts={"compare_type": False, "include_object": include})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
