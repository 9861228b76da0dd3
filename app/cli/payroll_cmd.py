"""`zerotrip payroll --month YYYY-MM [--close] [--as-of DATE] [--out DIR]`: the monthly payment roll."""

from __future__ import annotations

import re
from pathlib import Path

import click

from app.cli.common import ready_config, summary
from app.crypto import cipher_for
from app.db import session_scope
from flows import payroll, programs
from flows.dates import today_shanghai
from flows.money import yuan

_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


@click.command("payroll")
@click.option("--month", required=True, help="The month paid, YYYY-MM.")
@click.option("--close", is_flag=True, help="Close the roll: it is never recomputed afterwards.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Date of the data (Asia/Shanghai); default today.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Directory for the bank CSV files (default instance/payroll/MONTH).")
def payroll_command(month: str, close: bool, as_of, out_dir) -> None:
    """Per program: benefits owed money up to MONTH (with arrears), totals, anomalies; bank CSV when closed."""
    if not _MONTH.match(month):
        raise click.BadParameter("must be YYYY-MM", param_hint="--month")
    cfg = ready_config()
    day = as_of.date() if as_of else today_shanghai()
    with session_scope(cfg) as session:
        roll = payroll.compute(session, month, day, close=close)
        files = []
        if roll.run.state == "closed":
            target = Path(out_dir) if out_dir else Path(cfg.instance_path) / "payroll" / month
            files = payroll.write_bank_files(session, roll.run, cipher_for(cfg), target)
        click.echo(f"{'program':<28}{'benefits':>10}{'month':>14}{'arrears':>14}{'total':>14}{'no account':>12}")
        grand = 0
        for code, t in sorted(roll.totals.items()):
            name = programs.get(code).name if programs.get(code) else code
            click.echo(f"{name:<24}{t['benefits']:>10}{yuan(t['amount_fen']):>14}{yuan(t['arrears_fen']):>14}"
                       f"{yuan(t['total_fen']):>14}{t['no_account']:>12}")
            grand += t["total_fen"]
        click.echo("anomalies: " + ", ".join(f"{k}={v['count']}" for k, v in roll.anomalies.items()))
        anomaly_count = sum(v["count"] for v in roll.anomalies.values())
        summary(month=month, state=roll.run.state, recomputed=str(roll.recomputed).lower(), lines=roll.lines,
                total=yuan(grand), anomalies=anomaly_count, csv=",".join(str(f) for f in files) or "none")


def register(cli) -> None:
    cli.add_command(payroll_command)
