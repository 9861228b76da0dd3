"""`zerotrip import disability|deaths|hukou-moves|economic|payout-accounts FILE`: partner data for the programs.

Registered on the same `import` group as the population import, with the same rules: a summary line
(imported=… updated=… unchanged=… rejected=… warnings=… report=…), exit 0 when the job ran, exit 2 with nothing
written for an unreadable file, a wrong header or a wrong encoding.
"""

from __future__ import annotations

import click

from app.cli.import_cmd import import_group, run_import
from flows.imports.care_assessments import import_care_assessments
from flows.imports.cremations import import_cremations
from flows.imports.deaths import import_deaths
from flows.imports.disability import import_disability
from flows.imports.economic import import_economic
from flows.imports.hukou_moves import import_hukou_moves
from flows.imports.payout_accounts import import_payout_accounts


def _command(name: str, job, help_text: str):
    @click.command(name, help=help_text)
    @click.argument("file", type=click.Path(dir_okay=False))
    def command(file: str) -> None:
        run_import(job, file, name)

    return command


COMMANDS = (
    _command("disability", import_disability, "残联 disability certificates (number, category, grade 1–4, dates)."),
    _command("deaths", import_deaths, "Deaths (date of death and reporting source); benefits stop the month after."),
    _command("hukou-moves", import_hukou_moves, "Household-registration moves out of / back into the city."),
    _command("economic", import_economic, "Household economic records for the 低保 check (income, assets)."),
    _command("payout-accounts", import_payout_accounts, "Payout accounts (社保卡 / bank), stored encrypted."),
    _command("cremations", import_cremations, "殡仪馆 cremation records (治丧人, services, amount already waived)."),
    _command("care-assessments", import_care_assessments, "老年人能力评估 care-need levels 0–4 (GB/T 42195-2022)."),
)


def register(cli) -> None:
    for command in COMMANDS:
        if command.name not in import_group.commands:
            import_group.add_command(command)
