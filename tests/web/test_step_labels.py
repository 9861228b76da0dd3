"""Every step a program declares (and every time limit its casework opens) has a label on the workbench's case
page (S.case.steps in app/web/static/staff/strings.js), so no deadline shows a raw step code."""

from __future__ import annotations

import re

from flows import programs
from tests.web.conftest import ROOT


def _case_steps() -> set[str]:
    text = (ROOT / "app" / "web" / "static" / "staff" / "strings.js").read_text(encoding="utf-8")
    case = text[text.index("\n  case: {"):]
    block = case[case.index("steps: {") + len("steps: {"):]
    return set(re.findall(r"(\w+):", block[:block.index("}")]))


def test_every_declared_step_has_a_label_on_the_case_page():
    codes = set()
    for program in programs.PROGRAMS.values():
        codes |= {s.code for s in program.steps} | set(program.waiting_steps.values())
        module = program.casework_module()
        if getattr(module, "CASE_STEP", None):
            codes.add(module.CASE_STEP)
    missing = codes - _case_steps()
    assert not missing, f"steps without a label in S.case.steps: {sorted(missing)}"
