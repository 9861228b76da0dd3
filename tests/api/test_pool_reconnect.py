"""PostgreSQL: a pooled connection the server has ended is replaced at checkout, so the next request works
(no `SELECT 1` before every request to find out)."""

import time

import pytest
from sqlalchemy import create_engine, text

from tests.builders import make_account


def test_requests_go_on_after_the_server_ends_every_pooled_connection(client, session, cfg):
    if not cfg.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (SQLite has no server to end connections)")
    from app.api import tokens

    pair = tokens.start_session(session, cfg, make_account(session))
    session.commit()
    session.close()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/v1/applications", headers=headers).status_code == 200  # its connection is pooled now

    killer = create_engine(cfg.database_url)
    with killer.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalars().all()
        ended = sum(conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() for pid in pids)
        # pg_terminate_backend only signals: wait (on progress, not a fixed time) until the server has ended them,
        # which is when their sockets carry the termination a checkout can see.
        while conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                           {"pids": list(pids)}).scalar():
            conn.rollback()
            time.sleep(0.01)
    killer.dispose()
    assert ended >= 1

    for _ in range(3):
        assert client.get("/api/v1/applications", headers=headers).status_code == 200
