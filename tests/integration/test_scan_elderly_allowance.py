"""scan_turning_80: who is proposed, idempotence, daily mode."""

from datetime import date

from sqlalchemy import func, select

from app.models import Application, Benefit, OutboxMessage, ScanRun
from flows.programs.elderly_allowance.scan import scan_turning_80
from tests.builders import make_resident

AS_OF = date(2026, 11, 25)


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_scan_proposes_only_the_living_local_over_80_not_already_receiving(session, cfg):
    li, _ = make_resident(session, cfg, name="李秀英", birth_date=date(1946, 11, 20))
    make_resident(session, cfg, name="王大妈", birth_date=date(1946, 11, 26))  # turns 80 tomorrow
    make_resident(session, cfg, name="张已故", birth_date=date(1940, 1, 1), death_date=date(2026, 5, 1))
    make_resident(session, cfg, name="赵迁出", birth_date=date(1940, 1, 1), hukou_local=False)
    paid, _ = make_resident(session, cfg, name="钱在领", birth_date=date(1930, 3, 3))
    session.add(Benefit(program="elderly_allowance", resident_id=paid.id, origin="legacy",
                        monthly_amount_fen=10000, start_month="2026-01"))
    session.commit()

    result = scan_turning_80(cfg, AS_OF)

    apps = session.scalars(select(Application)).all()
    assert [a.resident_id for a in apps] == [li.id]
    assert result.proposed == 1
    prefill = apps[0].prefill
    assert prefill["name"] == {"value": "李秀英", "source": "population_registry", "source_date": "2026-11-25"}
    assert prefill["tier"]["value"] == "80-89" and prefill["monthly_amount"]["value"] == "50.00"
    assert prefill["start_month"]["value"] == "2026-12"
    assert prefill["age"]["value"] == 80
    box = session.scalars(select(OutboxMessage)).all()
    assert [(b.kind, b.application_id) for b in box] == [("proposal_ready", apps[0].id)]


def test_a_second_run_for_the_same_date_touches_nothing(session, cfg):
    make_resident(session, cfg, birth_date=date(1940, 2, 2))
    first = scan_turning_80(cfg, AS_OF)
    run_before = session.scalars(select(ScanRun)).one()
    second = scan_turning_80(cfg, AS_OF)
    session.expire_all()
    assert first.proposed == 1 and second.skipped and second.proposed == 0
    assert _count(session, Application) == 1 and _count(session, OutboxMessage) == 1
    assert session.scalars(select(ScanRun)).one().finished_at == run_before.finished_at


def test_daily_scan_picks_up_birthdays_crossed_since_the_last_run(session, cfg):
    make_resident(session, cfg, name="甲", birth_date=date(1940, 1, 1))
    scan_turning_80(cfg, date(2026, 11, 20))
    make_resident(session, cfg, name="乙", birth_date=date(1946, 11, 22))  # was 79 on the 20th
    result = scan_turning_80(cfg, date(2026, 11, 25))
    assert result.mode == "daily" and result.proposed == 1
    assert _count(session, Application) == 2


def test_leap_day_birth_turns_80_on_first_of_march_in_common_years(session, cfg):
    make_resident(session, cfg, name="闰日", birth_date=date(1948, 2, 29))
    assert scan_turning_80(cfg, date(2028, 2, 28)).proposed == 0
    assert scan_turning_80(cfg, date(2028, 2, 29)).proposed == 1
    app = session.scalars(select(Application)).one()
    assert app.prefill["start_month"]["value"] == "2028-03"


def test_leap_day_birth_in_a_common_target_year_starts_in_april(session, cfg):
    # born 29 Feb 1944 → 80 on 29 Feb 2024 (leap) → before program start → 2026-01
    make_resident(session, cfg, name="闰甲", birth_date=date(1944, 2, 29))
    scan_turning_80(cfg, AS_OF)
    app = session.scalars(select(Application)).one()
    assert app.prefill["start_month"]["value"] == "2026-01"
    assert app.prefill["tier"]["value"] == "80-89"


def test_a_crash_mid_scan_then_a_rerun_leaves_no_duplicates_and_no_gaps(session, cfg, monkeypatch):
    import pytest

    from flows.programs.elderly_allowance import scan

    people = [make_resident(session, cfg, name=f"老人{i}", birth_date=date(1930 + i, 1, 1))[0] for i in range(6)]
    cfg.scan_batch_size = 2
    real_batch, calls = scan._run_batch, {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(scan, "_run_batch", crashing)
    with pytest.raises(RuntimeError):
        scan_turning_80(cfg, AS_OF)
    assert session.scalars(select(ScanRun)).one().state == "failed"
    assert 0 < _count(session, Application) < 6

    monkeypatch.setattr(scan, "_run_batch", real_batch)
    scan_turning_80(cfg, AS_OF)
    session.expire_all()
    apps = session.scalars(select(Application)).all()
    assert sorted(a.resident_id for a in apps) == sorted(p.id for p in people)
    keys = session.scalars(select(OutboxMessage.application_id)).all()
    assert sorted(keys) == sorted(a.id for a in apps)
    assert session.scalars(select(ScanRun)).one().state == "done"


def test_two_scans_at_once_create_each_application_once(session, cfg):
    import threading

    for i in range(20):
        make_resident(session, cfg, name=f"并发{i}", birth_date=date(1920 + i % 6, 2, 2))
    errors = []

    def run():
        try:
            scan_turning_80(cfg, AS_OF)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _count(session, Application) == 20 and _count(session, OutboxMessage) == 20


def test_a_backfill_runs_its_batches_side_by_side_on_postgresql(session, cfg, monkeypatch):
    """Batches of disjoint birth dates, several at once on PostgreSQL (one after another on SQLite): each
    resident proposed once with one message, progress after every batch."""
    import threading

    from flows.programs.elderly_allowance import scan
    from tests.waiting import STALL_S

    people = [make_resident(session, cfg, name=f"批{i}", birth_date=date(1925 + i % 7, 3, 1 + i))[0]
              for i in range(13)]
    cfg.scan_batch_size, cfg.scan_workers = 2, 3
    postgres = session.get_bind().dialect.name == "postgresql"
    # On PostgreSQL the first two batches must be in flight together: each waits for the other at the barrier.
    met, real_batch, calls = threading.Barrier(2, timeout=STALL_S), scan._run_batch, []

    def batch(conn, statements, params):
        calls.append(threading.current_thread().name)
        if postgres and len(calls) <= 2:
            met.wait()
        return real_batch(conn, statements, params)

    monkeypatch.setattr(scan, "_run_batch", batch)
    seen = []
    result = scan_turning_80(cfg, AS_OF, progress=lambda done, total, proposed: seen.append((done, total, proposed)))

    assert result.proposed == 13 and result.candidates_batches == len(calls) == len(seen)
    assert [done for done, _, _ in seen] == list(range(1, len(calls) + 1)) and seen[-1][2] == 13
    assert all(total == len(calls) for _, total, _ in seen)
    assert sorted(session.scalars(select(Application.resident_id))) == sorted(p.id for p in people)
    assert _count(session, OutboxMessage) == 13
    assert (len(set(calls)) > 1) == postgres  # worker threads on PostgreSQL; the caller's own thread on SQLite
