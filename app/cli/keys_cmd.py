"""`zerotrip keys rotate-data`: re-key every data-key column to the current key of ZEROTRIP_DATA_KEYS."""

from __future__ import annotations

import sys

import click

from app.cli.common import ready_config, summary


def _a_number(_ctx, _param, value: float) -> float:
    if value != value:  # NaN passes every range comparison
        raise click.BadParameter("must be a number of seconds from 0 to 60")
    return value


@click.group("keys")
def keys_group() -> None:
    """Data keys: rotation (see docs/keys.md)."""


@keys_group.command("rotate-data")
@click.option("--batch", "batch_size", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Rows per transaction.")
@click.option("--pause", default=0.0, show_default=True, type=click.FloatRange(0, 60), callback=_a_number,
              help="Seconds to wait after each full batch (spares a busy database).")
def rotate_data(batch_size: int, pause: float) -> None:
    """Re-encrypt and re-key every encrypted or keyed-hash column under the current data key, in batches while
    the API serves; resumes an interrupted run. The old key must stay in ZEROTRIP_DATA_KEYS until it ends."""
    from flows.data_keys.rotate import RotationRefused, rotate

    cfg = ready_config()

    def progress(step: str, done: int) -> None:
        sys.stderr.write(f"rotate-data: {step} rows read so far {done}\n")
        sys.stderr.flush()

    try:
        result = rotate(cfg, batch_size=batch_size, progress=progress, pause=pause)
    except RotationRefused as exc:
        raise click.ClickException(str(exc)) from None
    summary(**result)


@keys_group.command("status")
def rotation_status() -> None:
    """The latest data-key rotation: its target key, state and counts."""
    from app.crypto import cipher_for
    from flows.data_keys.rotate import status

    cfg = ready_config()
    row = status(cfg)
    ring = ",".join(cipher_for(cfg).kids)
    if row is None:
        summary(rotation="none", ring=ring)
        return
    summary(rotation=row["id"], to_kid=row["to_kid"], state=row["state"], step=row["step"] or "-", ring=ring,
            **row["counts"])
