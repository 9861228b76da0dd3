"""What the exchange takes in and gives out, declared per dataset (generic: no program code here).

- PUSH: datasets departments push, each the CSV import's own `partner.Spec` (same columns, same validation,
  same reason codes, same writer) plus what the worker does with an accepted record (`effect`).
- ANSWERS: the bureau's own facts other departments may ask about (一数一源), each with its fields, the minimal
  default answer, and a function answering for a list of residents. Each program declares its own answers in
  the module it names as `Program.exchange` (e.g. flows/programs/<code>/exchange.py), loaded here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flows.imports import care_assessments, cremations, deaths, disability, economic, hukou_moves
from flows.imports.partner import Spec


@dataclass(frozen=True)
class Push:
    code: str
    name: str
    spec: Spec
    effect: Callable[[dict], str | None] = lambda rec: None  # noqa: E731 - the worker's job for a record
    fixed: dict = field(default_factory=dict)  # columns the dataset fixes (a cremation is a 殡葬 report)
    gate: str | None = None  # a declaration that must admit the resident (e.g. 授权核对 for economic records)


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    text: str
    sensitivity: str = "一般"


@dataclass(frozen=True)
class Answer:
    code: str
    name: str
    fields: dict[str, Field]
    minimal: tuple[str, ...]
    answer: Callable  # (conn, [resident_id]) -> {resident_id: {field: value}}
    not_receiving: dict = field(default_factory=dict)
    # its 政务数据目录 entry: (resource code, classification code, 共享类型, 更新周期, source table)
    catalogue: tuple[str, str, str, str, str] = ("", "", "", "", "")
    asked: str = ""  # what the resident reads in her feed when a department asked (e.g. 您是否享受…)


def _death_effect(rec: dict) -> str | None:
    return "death"


def _move_effect(rec: dict) -> str | None:
    return "move_out" if rec.get("direction") == "out" else None


PUSH: dict[str, Push] = {p.code: p for p in (
    Push("deaths", "死亡信息（公安户籍注销、卫健死亡医学证明、殡葬火化）", deaths.SPEC, _death_effect),
    Push("cremations", "火化信息（殡葬）", deaths.SPEC, _death_effect, fixed={"source": "funeral"}),
    # the funeral home's cremation record with the 治丧人, services and amount waived (the CSV import's contract):
    # the funeral subsidy is proposed to her in the program's daily step, as after `zerotrip import cremations`
    Push("cremation_records", "火化记录及治丧人（殡葬，惠民殡葬补贴）", cremations.SPEC),
    Push("hukou_moves", "户口迁移", hukou_moves.SPEC, _move_effect),
    Push("disability_certificates", "残疾人证", disability.SPEC),
    # a new assessment is taken in by the programs that read assessments (their daily step: propose, re-price, stop)
    Push("care_assessments", "老年人能力评估（GB/T 42195-2022）", care_assessments.SPEC),
    Push("economic_records", "家庭经济状况核对信息", economic.SPEC, gate="checking_authorized"),
)}

ANSWERS: dict[str, Answer] = {}
GATES: dict[str, Callable] = {}


def declare_answer(answer: Answer) -> Answer:
    ANSWERS[answer.code] = answer
    return answer


def declare_gate(name: str, check: Callable) -> None:
    """`check(conn, [resident_id]) -> set of admitted resident ids`."""
    GATES[name] = check


def _load_program_declarations() -> None:
    """Import each program's exchange declarations (they call declare_answer / declare_gate)."""
    import importlib

    from flows.programs import PROGRAMS

    for program in PROGRAMS.values():
        if program.exchange:
            importlib.import_module(program.exchange)


_load_program_declarations()
