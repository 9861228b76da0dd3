"""`zerotrip seed --people N [--seed S]`: a synthetic Taiyuan, loaded through the import's validation."""

from __future__ import annotations

import click

from app.cli.common import Progress, ready_config, summary
from flows.synthetic_city import seed_city


@click.command("seed")
@click.option("--people", "n", type=click.IntRange(min=1), default=50_000, show_default=True,
              help="Number of residents to generate.")
@click.option("--seed", "seed", type=int, default=1, show_default=True,
              help="Random seed: the same seed (and day) gives the same city.")
def seed(n: int, seed: int) -> None:
    """Generate valid synthetic Taiyuan residents (households, age pyramid, phones) and upsert them."""
    cfg = ready_config()
    progress = Progress("seed", total=n)
    result = seed_city(cfg, n, seed, progress.update)
    progress.update(n, force=True)
    summary(**result)


def register(cli) -> None:
    cli.add_command(seed)
