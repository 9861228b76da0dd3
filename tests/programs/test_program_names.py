"""Generic code names no program (issue 10): a ratchet until the engine is done.

Every file under app/ (static files included), flows/ and notifications/ outside a program's own module is
scanned for a program code as a word (the codes come from the registry, flows.programs). A file not in
`STILL_NAMING` that names one fails the test (new generic code must ask the program, e.g. `Program.hook`,
`Program.step_actions`); a file in `STILL_NAMING` that no longer names one fails too, so the list only shrinks.
Issue 10's acceptance is this list empty (the program packages are still to be moved under flows/programs/)."""

from __future__ import annotations

import re
from pathlib import Path

from flows.programs import PROGRAMS

ROOT = Path(__file__).resolve().parents[2]
STILL_NAMING = {
    "flows/simulation/city_year.py", "flows/simulation/services_year.py",
}


def naming_files(root: Path = ROOT) -> set[str]:
    codes = sorted(PROGRAMS)
    word = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, codes)) + r")(?![A-Za-z0-9_])")
    found = set()
    for base in ("app", "flows", "notifications"):
        for path in root.joinpath(base).rglob("*"):
            if path.suffix not in (".py", ".js", ".html") or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(root).as_posix()
            parts = path.relative_to(root).parts
            if parts[:2] == ("flows", "programs") and (path.stem in codes or parts[2] in codes):
                continue  # a program's own module or package
            if word.search(path.read_text("utf-8")):
                found.add(rel)
    return found


def test_no_new_generic_file_names_a_program_and_the_list_only_shrinks():
    found = naming_files()
    assert found - STILL_NAMING == set(), "generic code names a program: ask the program (Program.hook, data)"
    assert STILL_NAMING - found == set(), "these no longer name a program: take them off STILL_NAMING"


def test_the_scan_sees_a_program_name_where_there_is_one(tmp_path):
    code = sorted(PROGRAMS)[0]
    files = {"flows/payroll.py": f"x = '{code}'\n", "app/web/static/a.js": f"go('#/{code}')\n",
             f"flows/programs/{code}/cases.py": f"CODE = '{code}'\n", "flows/other.py": f"y = '{code}_x'\n"}
    for rel, text in files.items():
        tmp_path.joinpath(rel).parent.mkdir(parents=True, exist_ok=True)
        tmp_path.joinpath(rel).write_text(text, "utf-8")
    assert naming_files(tmp_path) == {"flows/payroll.py", "app/web/static/a.js"} and len(PROGRAMS) >= 7
