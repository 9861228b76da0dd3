"""Generic code names no program (issue 10).

Every file under app/ (static files included), flows/ and notifications/ outside a program's own module or
package (flows/programs/<code>.py, flows/programs/<code>/) is scanned for a program code as a word (the codes come
from the registry, flows.programs): generic code asks the program instead (Program fields and hooks)."""

from __future__ import annotations

import re
from pathlib import Path

from flows.programs import PROGRAMS

ROOT = Path(__file__).resolve().parents[2]


def naming_files(root: Path = ROOT) -> set[str]:
    codes = sorted(PROGRAMS)
    # a code as a word or inside an identifier (staff.<code>_step, <code>_ended): only letters and digits join it
    word = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, codes)) + r")(?![A-Za-z0-9])")
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


def test_no_generic_file_names_a_program():
    assert naming_files() == set(), "generic code names a program: ask the program (Program fields and hooks)"


def test_the_scan_sees_a_program_name_where_there_is_one(tmp_path):
    code = sorted(PROGRAMS)[0]
    files = {"flows/payroll.py": f"x = '{code}'\n", "app/web/static/a.js": f"go('#/{code}')\n",
             f"flows/programs/{code}/cases.py": f"CODE = '{code}'\n", "flows/other.py": f"y = '{code}_x'\n",
             "flows/fine.py": f"z = '{code}x'\n"}
    for rel, text in files.items():
        tmp_path.joinpath(rel).parent.mkdir(parents=True, exist_ok=True)
        tmp_path.joinpath(rel).write_text(text, "utf-8")
    assert naming_files(tmp_path) == {"flows/payroll.py", "app/web/static/a.js", "flows/other.py"} and len(PROGRAMS) >= 7
