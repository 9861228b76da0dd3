"""/healthz is live whatever the database; /readyz is 200 only with the database reachable and at head."""

from __future__ import annotations


def _client(cfg, url: str):
    from app import create_app
    from app.config import load_config

    return create_app(load_config({"database_url": url, "testing": True, "instance_path": cfg.instance_path})).test_client()


def test_ready_when_the_schema_is_at_head(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200 and resp.json == {"status": "ready", "database": "ok", "migrations": "at_head"}


def test_not_ready_before_migrations_or_without_a_database(cfg, tmp_path):
    try:
        empty = _client(cfg, f"sqlite:///{tmp_path / 'empty.db'}")
        assert empty.get("/healthz").status_code == 200
        resp = empty.get("/readyz")
        assert resp.status_code == 503 and resp.json["migrations"] == "behind"
        import sqlite3

        newer = tmp_path / "newer.db"  # migrated by a later release: a revision this code does not know
        sqlite3.connect(newer).execute("CREATE TABLE alembic_version (version_num VARCHAR(32))").connection.close()
        with sqlite3.connect(newer) as conn:
            conn.execute("INSERT INTO alembic_version VALUES ('9999')")
        resp = _client(cfg, f"sqlite:///{newer}").get("/readyz")
        assert resp.status_code == 503 and resp.json["migrations"] == "ahead"
        gone = _client(cfg, f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")
        resp = gone.get("/readyz")
        assert resp.status_code == 503 and resp.json["database"] == "unreachable"
        assert gone.get("/healthz").status_code == 200
    finally:
        _client(cfg, cfg.database_url)  # the request session is process-wide: bind it back to the test database
