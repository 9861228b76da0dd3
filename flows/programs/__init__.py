"""Programs (事项): one module each, with dated parameters, a pure eligibility rule and a service guide."""

from __future__ import annotations

from flows.programs import (
    dibao,
    disability_care_subsidy,
    disability_living_subsidy,
    elderly_allowance,
    elderly_care_service_subsidy,
    funeral_subsidy,
    price_subsidy,
)
from flows.programs.base import Program

PROGRAMS: dict[str, Program] = {p.code: p for p in (
    elderly_allowance.PROGRAM,
    disability_care_subsidy.PROGRAM,
    disability_living_subsidy.PROGRAM,
    dibao.PROGRAM,
    funeral_subsidy.PROGRAM,
    price_subsidy.PROGRAM,
    elderly_care_service_subsidy.PROGRAM,
)}

# Pairs that may not be paid to the same person for the same month (择高申领). The city's four programs are
# cumulative (国发〔2015〕52号 excludes only other care subsidies, which are not run here); the payroll's
# anomaly report checks whatever pairs are listed.
EXCLUSIVE_PAIRS: tuple[tuple[str, str], ...] = (
    (elderly_care_service_subsidy.CODE, elderly_care_service_subsidy.HIGHER_OF),  # 择高, see that module
)


def get(code: str) -> Program | None:
    return PROGRAMS.get(code)
