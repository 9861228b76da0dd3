"""Lifecycle jobs of benefits and proposals, run daily by the scheduler (and by the simulation) for an as-of date.

Each job is set-based SQL (INSERT … SELECT / UPDATE … WHERE, written in SQLAlchemy Core with the values bound) in
one transaction with its outbox rows; a re-run
for the same date touches nothing, because every statement skips what is already done (state checks plus unique
change keys and idempotency keys). See `flows.lifecycle.jobs.run_daily`.
"""
