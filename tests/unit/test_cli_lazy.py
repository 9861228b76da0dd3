"""`zerotrip` loads subcommands lazily: `--help` imports neither the web stack nor the database layer, yet
lists every command with its own one-line help, and every command still loads and runs."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("flask", "sqlalchemy", "alembic", "gunicorn", "prometheus_client", "apscheduler", "flows", "notifications")


def test_help_imports_nothing_heavy():
    probe = ("import sys\nfrom app.cli import cli\ncli(['--help'], standalone_mode=False)\n"
             f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "LOADED []", out


def test_help_lists_every_command_with_its_own_help(cli):
    from app.cli import LAZY_COMMANDS
    from app.cli import cli as group

    listing = cli("--help").output
    for name, (_module, _attr, help_text) in LAZY_COMMANDS.items():
        assert f"  {name} " in listing, name
        command = group.get_command(None, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=500) == help_text, name


def test_group_commands_still_load_with_their_extensions(cli):
    listing = cli("import", "--help").output
    for sub in ("population", "beneficiaries", "disability", "deaths", "hukou-moves", "economic", "payout-accounts"):
        assert sub in listing
    assert "upgrade" in cli("db", "--help").output
    assert cli("no-such-command").exit_code == 2
