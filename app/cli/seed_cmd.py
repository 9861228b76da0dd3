"""`zerotrip seed --people N [--seed S]`: a synthetic Taiyuan, loaded through the import's validation, with the
names (and offices' phones) of its districts, streets and communities (`zerotrip import areas --synthetic`)."""

from __future__ import annotations

import click

from app.cli.common import Progress, ready_config, summary
from app.db import session_scope
from flows import areas
from flows.imports.csvfile import BadInput
from flows.synthetic_city import seed_city


@click.command("seed")
@click.option("--people", "n", type=click.IntRange(min=1), default=50_000, show_default=True,
              help="Number of residents to generate.")
@click.option("--seed", "seed", type=int, default=1, show_default=True,
              help="Random seed: the same seed (and day) gives the same city.")
def seed(n: int, seed: int) -> None:
    """Generate valid synthetic Taiyuan residents (households, age pyramid, phones) and upsert them, and the
    synthetic city's area names (areas= counts the names added or changed)."""
    cfg = ready_config()
    progress = Progress("seed", total=n)
    try:
        result = seed_city(cfg, n, seed, progress.update)
    except BadInput as exc:
        raise click.ClickException(str(exc)) from None
    progress.update(n, force=True)
    named = areas.Result()
    with session_scope(cfg) as session:
        areas.upsert(session, areas.synthetic_rows(), named)
    summary(**result, areas=named.imported + named.updated)


def register(cli) -> None:
    cli.add_command(seed)
