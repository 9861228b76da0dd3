"""The schema comes only from migrations: one head, and the models match it exactly."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.db import Base, make_engine
from app.migrate import head_revisions, is_at_head


def test_there_is_one_head_and_the_test_database_is_at_it(db_url):
    assert len(head_revisions()) == 1
    assert is_at_head(db_url)


def test_models_and_migrations_agree(db_url):
    with make_engine(db_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
