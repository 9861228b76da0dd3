"""`zerotrip payroll --month YYYY-MM [--close [--by USER]] [--as-of DATE]`: the monthly payment roll;
`zerotrip payroll sign-off --month M --by SUPERVISOR --note TEXT` and `zerotrip payroll release --month M --by USER
[--out DIR]`: the gate (flows.payroll_gate) — closing writes no bank file; a supervisor other than the closer signs
the anomaly report off; only then does `release` write the bank CSV files."""

from __future__ import annotations

import re
from pathlib import Path

import click

from app.cli.common import DayType, as_of_day, day_bounds, ready_config, summary
from app.cli.signed import PASSWORD, run_refusable, signed_in
from app.crypto import cipher_for
from flows import payroll, programs
from flows.money import yuan

_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])\Z")


def _month(month: str | None) -> str:
    if not month or not _MONTH.match(month):
        raise click.BadParameter("must be YYYY-MM", param_hint="--month")
    earliest, latest = day_bounds()
    if not earliest.isoformat()[:7] <= month <= latest.isoformat()[:7]:
        raise click.BadParameter(f"must be between {earliest.isoformat()[:7]} and {latest.isoformat()[:7]}",
                                 param_hint="--month")
    return month


@click.group("payroll", invoke_without_command=True)
@click.option("--month", default=None, help="The month paid, YYYY-MM.")
@click.option("--close", is_flag=True, help="Close the roll: it is never recomputed afterwards (no bank file yet: "
                                            "a supervisor signs it off, then `payroll release`).")
@click.option("--by", "by", default=None, help="your staff username (the closer; asks for your password)")
@click.option("--as-of", "as_of", type=DayType(), default=None,
              help="Date of the data (Asia/Shanghai); default today.")
@click.option("--out", "out_dir", default=None, hidden=True,
              help="(no longer used here: the bank files are written by `payroll release --out DIR`)")
@click.pass_context
def payroll_command(ctx, month: str | None, close: bool, by: str | None, as_of, out_dir) -> None:
    """Per program: benefits owed money up to MONTH (with arrears), totals, anomalies.

    Closing asks for a supervisor's sign-off; `payroll release` writes the bank CSV afterwards."""
    if ctx.invoked_subcommand is not None:
        return
    month = _month(month)
    if out_dir:
        click.echo("note: --out is used by `zerotrip payroll release`; closing writes no bank file", err=True)
    cfg = ready_config()
    day = as_of_day(cfg, as_of)
    if close and not by and cfg.env == "production":  # the two-person rule needs to know who closed
        raise click.UsageError("--close needs --by USER in production: the supervisor who signs the roll off "
                               "must be someone other than the one who closed it")
    closer = "cli"
    if close and by:
        closer = _staff_ref(cfg, by, _env_password() or click.prompt("Password", hide_input=True))
    from flows import payroll_gate

    def work(session):
        roll = payroll.compute(session, month, day, close=close)
        asked = None
        if roll.run.state == "closed":  # a view of a closed roll asks for nothing: it shows the request's state
            asked = (payroll_gate.after_close(session, roll.run, closer) if close
                     else payroll_gate.signoff_of(session, month))
        _print_roll(roll, month, asked.state if asked is not None else "none")

    run_refusable(work, cfg)  # a refusal (a month not yet begun) → one line, exit 2


def _print_roll(roll, month: str, signoff: str) -> None:
    """The roll's totals per program, its anomalies and the one-line summary."""
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
            total=yuan(grand), anomalies=anomaly_count, signoff=signoff, csv="none")


def _env_password() -> str | None:
    import os

    return os.environ.get("ZEROTRIP_PASSWORD") or None


def _staff_ref(cfg, username: str, password: str) -> str:
    from flows.approvals import actor_of

    return run_refusable(lambda session: actor_of(signed_in(session, username, password)), cfg)


@payroll_command.command("sign-off")
@click.option("--month", required=True, help="The closed month, YYYY-MM.")
@click.option("--by", "by", required=True, help="your staff username (a supervisor, not the closer)")
@click.option("--note", required=True, help="what you checked in the anomaly report")
@PASSWORD
def sign_off(month, by, note, password) -> None:
    """Sign off the anomaly report of a closed roll (a supervisor other than the one who closed it)."""
    from flows import payroll_gate

    month, cfg = _month(month), ready_config()

    def work(session):
        staff = signed_in(session, by, password)
        approval = payroll_gate.sign_off(session, month, staff, note)
        return approval.state

    summary(month=month, signoff=run_refusable(work, cfg), by=by)


@payroll_command.command("release")
@click.option("--month", required=True, help="The closed month, YYYY-MM.")
@click.option("--by", "by", required=True, help="your staff username")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Directory for the bank CSV files (default instance/payroll/MONTH).")
@click.option("--again", is_flag=True, help="Write the files of a roll released before once more (audited).")
@PASSWORD
def release(month, by, out_dir, again, password) -> None:
    """Write the bank CSV files of a closed roll — only after its anomaly report was signed off, and once
    (`--again` writes the same files once more)."""
    from flows import payroll_gate
    from flows.approvals import actor_of

    month, cfg = _month(month), ready_config()
    target = Path(out_dir) if out_dir else Path(cfg.instance_path) / "payroll" / month

    def work(session):
        staff = signed_in(session, by, password)
        return payroll_gate.release(session, month, actor_of(staff), cipher_for(cfg), target, again=again)

    try:
        files = run_refusable(work, cfg)
    except OSError as exc:  # the directory cannot be made or written: nothing is released (rolled back)
        raise click.ClickException(f"cannot write the bank files to {target}: {exc.strerror or exc}") from None
    summary(month=month, released=len(files), csv=",".join(str(f) for f in files) or "none")


def register(cli) -> None:
    cli.add_command(payroll_command)
