"""No Unicode-digit parsing in app/, flows/, notifications/ (issue 9 item 4).

`str.isdigit()`, `.isdecimal()`, `.isnumeric()` and a regex `\\d` without `re.ASCII` accept every script's
digits ("١٢٣", "²", "①"). An AST scan finds them; the few patterns that *detect* digits on purpose (to mask ID
numbers in any script) are allowlisted with their reason. Parsing goes through app/digits.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "flows", "notifications")
DIGIT_METHODS = {"isdigit", "isdecimal", "isnumeric"}
RE_FUNCS = {"compile", "match", "fullmatch", "search", "sub", "subn", "findall", "finditer", "split"}

# (file, enclosing assignment target or function) → why a Unicode-aware \d is right there
ALLOWLIST = {
    ("app/idnumbers.py", "ID_PATTERN"): "detects ID numbers in free text for masking: every script's digits",
    ("app/digits.py", "is_ascii_digits"): "isdigit() only after isascii(): among ASCII characters only 0-9 are "
                                          "digits",
    ("notifications/templates.py", "_ANY_DIGIT"): "refuses a WeChat `name` value holding a digit of any script",
    ("notifications/templates.py", "_LONG_DIGITS"): "detects long digit runs (IDs, cards) to keep them out of "
                                                    "messages, in any script",
}


def _has_ascii_flag(call: ast.Call) -> bool:
    nodes = list(call.args[1:]) + [k.value for k in call.keywords if k.arg == "flags"]
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and sub.attr in ("ASCII", "A"):
                return True
    return False


def _strings(node) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _context(parents: dict, node) -> str:
    while node is not None:
        if isinstance(node, ast.Assign) and node.targets and isinstance(node.targets[0], ast.Name):
            return node.targets[0].id
        if isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
            return node.target.id
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return node.name
        node = parents.get(node)
    return "<module>"


def scan(source: str, filename: str) -> list[tuple[str, int, str, str]]:
    """(file, line, context, what) for every Unicode-digit use."""
    tree = ast.parse(source, filename)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []

    def hit(node, what):
        found.append((filename, node.lineno, _context(parents, node), what))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in DIGIT_METHODS:
                hit(node, f".{name}()")
            elif name in RE_FUNCS and isinstance(node.func.value, ast.Name) and node.func.value.id == "re":
                pattern = node.args[0] if node.args else next((k.value for k in node.keywords
                                                               if k.arg == "pattern"), None)
                if pattern is not None and any("\\d" in s for s in _strings(pattern)) \
                        and not _has_ascii_flag(node):
                    hit(node, f"re.{name} with \\d and no re.ASCII")
            elif name == "Regexp" and any("\\d" in s for a in node.args for s in _strings(a)):
                hit(node, "Regexp validator with \\d")
        elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str) and "\\d" in node.value.value:
            hit(node, "pattern text with \\d")  # a piece assembled into a regex elsewhere
    return found


def _sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")


def test_no_unicode_digit_parsing_outside_the_allowlist():
    found = [f for rel, text in _sources() for f in scan(text, rel)]
    bad = [f for f in found if (f[0], f[2]) not in ALLOWLIST]
    assert not bad, "Unicode digits accepted here (use app/digits.py, [0-9] or re.ASCII):\n" + "\n".join(
        f"  {file}:{line} in {ctx}: {what}" for file, line, ctx, what in bad)
    used = {(f[0], f[2]) for f in found}
    assert set(ALLOWLIST) <= used, f"stale allowlist entries: {set(ALLOWLIST) - used}"


def test_the_scan_finds_what_it_should():
    sample = '''
import re
import marshmallow as ma
A = re.compile(r"^\\d{4}$")
B = re.compile(r"^\\d{4}$", re.ASCII)
C = re.compile(rf"{X}\\d", flags=re.I | re.A)
PIECE = r"\\d{2}"
def f(x):
    return x.isdigit() or x.isnumeric() or x.isdecimal() or re.fullmatch(r"\\d+", x)
V = ma.validate.Regexp(r"^\\d{9}$")
def g(x):
    """Docs may say \\d and isdigit()."""
    return re.fullmatch(r"[0-9]+", x)
'''
    got = sorted((ctx, what) for _, _, ctx, what in scan(sample, "sample.py"))
    assert got == sorted([("A", "re.compile with \\d and no re.ASCII"), ("PIECE", "pattern text with \\d"),
                          ("f", ".isdigit()"), ("f", ".isnumeric()"), ("f", ".isdecimal()"),
                          ("f", "re.fullmatch with \\d and no re.ASCII"), ("V", "Regexp validator with \\d")])
