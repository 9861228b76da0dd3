"""The `zerotrip` command line. One module per command group; each says what it did in one line.

Subcommands load lazily (click's documented LazyGroup pattern): `zerotrip --help` imports click and this
file only, and `zerotrip scan …` imports what the scan needs — not the web app, not gunicorn, not the
dispatcher. The one-line help of each command is written here so that the listing needs no import;
`tests/unit/test_cli_lazy.py` checks it against the command's own docstring.
"""

from __future__ import annotations

import importlib

import click

# name → (module, attribute, one-line help shown by `zerotrip --help`)
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "approvals": ("app.cli.params_cmd", "approvals_group",
                  "Maker-checker approvals of every kind (parameter changes, payout grants, …)."),
    "audit": ("app.cli.audit_cmd", "audit_group", "The tamper-evident audit trail."),
    "db": ("app.cli.db_cmd", "db_group", "Database schema, backup, restore and archive."),
    "demo": ("app.cli.demo_cmd", "demo", "Start everything for a local demo; Ctrl-C stops it all."),
    "dispatch": ("app.cli.dispatch_cmd", "dispatch", "Send due outbox messages."),
    "exchange": ("app.cli.exchange_cmd", "exchange_group",
                 "The data exchange: partner clients, keys, the worker, a self-test."),
    "import": ("app.cli.import_cmd", "import_group",
               "Import partner data (UTF-8 CSV); rejected rows go to a report under instance/reports/."),
    "keys": ("app.cli.keys_cmd", "keys_group", "Data keys: rotation (see docs/keys.md)."),
    "mock-wechat": ("app.cli.serve_cmd", "mock_wechat",
                    "Run the mock WeChat server (its own Flask app; shares no code with the backend)."),
    "outbox": ("app.cli.outbox_cmd", "outbox_group", "Outbox messages: counts per state, re-queueing dead letters."),
    "params": ("app.cli.params_cmd", "params_group",
               "Program parameters: propose a dated change, a second admin approves it."),
    "payroll": ("app.cli.payroll_cmd", "payroll_command",
                "Per program: benefits owed money up to MONTH (with arrears), totals, anomalies."),
    "scan": ("app.cli.scan_cmd", "scan_group", "Proactive scans (主动发现)."),
    "scheduler": ("app.cli.serve_cmd", "scheduler", "Run the scheduler process (daily scans)."),
    "seed": ("app.cli.seed_cmd", "seed",
             "Generate valid synthetic Taiyuan residents (households, age pyramid, phones) and upsert them, and the "
             "synthetic city's area names (areas= counts the names added or changed)."),
    "serve": ("app.cli.serve_cmd", "serve", "Run the HTTP API under gunicorn (gthread), or Flask's server with --dev."),
    "simulate": ("app.cli.simulate_cmd", "simulate_command",
                 "Simulate a city for DAYS days and print coverage, wrongful payments, delays, trips and messages."),
    "staff": ("app.cli.staff_cmd", "staff_group",
              "Staff accounts: role (clerk/community_worker/reviewer/approver/supervisor/admin) and jurisdiction (district → street → community)."),
    "programs": ("app.cli.programs_cmd", "programs_group",
                 "Programs started by an operator: trigger, a second admin approves, withdraw before the roll closes."),
}
# Commands added to a group by another module once the group is loaded.
EXTENSIONS = {"import": ("app.cli.partner_import_cmd", "app.cli.areas_cmd")}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when invoked (or when their own help is asked for)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands or name not in LAZY_COMMANDS:
            return super().get_command(ctx, name)
        module_name, attr, _help = LAZY_COMMANDS[name]
        command = getattr(importlib.import_module(module_name), attr)
        for extension in EXTENSIONS.get(name, ()):
            importlib.import_module(extension).register(self)
        self.add_command(command, name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing from the table above: no subcommand module is imported for `--help`."""
        rows = [(name, LAZY_COMMANDS[name][2]) for name in self.list_commands(ctx) if name in LAZY_COMMANDS]
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, click.utils.make_default_short_help(text, limit)) for name, text in rows])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """ZeroTrip: proactive civil-affairs benefits (免申即享)."""
    from app.clock import FakeClockRefused, fake_today  # (light: os, datetime)

    try:  # a test clock that is no day, or one set in production: one line, exit 2, before any command's work
        fake_today()
    except FakeClockRefused as exc:
        raise click.UsageError(str(exc)) from None


def main() -> None:
    cli(prog_name="zerotrip")
