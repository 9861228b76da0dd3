"""Alembic environment: the URL comes from the application config, never from alembic.ini."""

from alembic import context

import app.models  # noqa: F401  (registers every table on Base.metadata)
from app.config import load_config
from app.db import Base, make_engine

config = context.config
url = config.attributes.get("database_url") or load_config().database_url


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    with make_engine(url).connect() as connection:
        _run(connection)
        connection.commit()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
