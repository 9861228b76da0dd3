"""`zerotrip simulate --people N --days D --seed S [--database-url URL]`: a synthetic city lives a year.

By default the run uses a fresh SQLite file in a temporary directory (deleted afterwards) and a throw-away data
key, so it never touches the configured database. Prints the KPI table (Markdown) on stdout, then the summary
line.
"""

from __future__ import annotations

import base64
import os
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

import click

from app.cli.common import summary
from app.config import load_config
from app.db import dispose_engines
from app.migrate import upgrade
from flows.simulation.city_year import Simulation, format_table


@click.command("simulate")
@click.option("--people", type=click.IntRange(100, 10_000_000), default=200_000, show_default=True)
@click.option("--days", type=click.IntRange(1, 3660), default=365, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2026-01-01", show_default=True,
              help="First simulated day.")
@click.option("--database-url", default=None, help="Default: a temporary SQLite file, removed afterwards.")
def simulate_command(people: int, days: int, seed: int, start, database_url: str | None) -> None:
    """Simulate a city for DAYS days and print coverage, wrongful payments, delays, trips and messages."""
    work = Path(tempfile.mkdtemp(prefix="zerotrip-sim-"))
    try:
        url = database_url or f"sqlite:///{work / 'sim.db'}"
        cfg = load_config({"database_url": url, "instance_path": str(work), "testing": True,
                           "data_key": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")})
        upgrade(url)
        sim = Simulation(cfg, people, days, seed, start.date() if hasattr(start, "date") else date.fromisoformat(start),
                         progress=lambda msg: (sys.stderr.write(f"simulate: {msg}\n"), sys.stderr.flush()))
        kpis = sim.run()
        click.echo(format_table(kpis))
        rows = kpis.rows.values()
        summary(people=people, days=days, seed=seed,
                coverage=f"{min(r['coverage'] for r in rows) * 100:.1f}%",
                wrongful=sum(r["wrongful_months"] for r in rows),
                anomalies=sum(kpis.anomalies.values()),
                trips=sum(r["trips"] for r in rows), seconds=f"{kpis.seconds['total']:.0f}")
    finally:
        dispose_engines()
        shutil.rmtree(work, ignore_errors=True)


def register(cli) -> None:
    cli.add_command(simulate_command)
