"""Where a fact comes from and what a pre-filled field is called, in words (one place for every screen and
message): the sources and labels every program may use, plus each program's own (Program.sources,
Program.field_labels) and its rule ("<short name>政策规则")."""

from __future__ import annotations

from flows import programs

# Sources every program may use: the partner departments and the resident herself.
COMMON_SOURCES = {
    "population_registry": "公安人口库", "disabled_persons_federation": "残联残疾人证数据",
    "citizen_declaration": "本人申报", "tax": "税务部门", "social_security": "人社部门", "real_estate": "不动产登记",
    "vehicles": "公安交管", "market_regulation": "市场监管", "bank": "银行存款核对", "staff": "工作人员",
    "parameters": "政策参数",
}
# Fields every program may pre-fill (who she is, where she lives, what she is paid).
COMMON_LABELS = {
    "name": "姓名", "sex": "性别", "birth_date": "出生日期", "district_code": "区县", "street_code": "街道",
    "community_code": "社区", "hukou_local": "本市户籍", "age": "年龄", "tier": "档次",
    "monthly_amount": "每月金额(元)", "start_month": "起始发放月份",
}
SOURCE_OTHER = "其他部门"
# Codes of the common fields in words (a program adds its own: Program.field_values).
COMMON_VALUES = {"sex": {"F": "女", "M": "男"}}


def _sources() -> dict[str, str]:
    return {**COMMON_SOURCES,
            **{f"rule:{p.code}": f"{p.short_name}政策规则" for p in programs.PROGRAMS.values()},
            **{k: v for p in programs.PROGRAMS.values() for k, v in p.sources.items()}}


SOURCE_NAMES = _sources()
FIELD_LABELS = {**COMMON_LABELS, **{k: v for p in programs.PROGRAMS.values() for k, v in p.field_labels.items()}}


def source_name(codes: str | None) -> str | None:
    """A source (or several, "tax,social_security") in words; a source no one declared is "其他部门"."""
    if not codes:
        return None
    names = _sources() if any(c not in SOURCE_NAMES for c in codes.split(",")) else SOURCE_NAMES  # a test's program
    return "、".join(names.get(c, SOURCE_OTHER) for c in codes.split(",") if c)


def field_label(key: str) -> str:
    own = FIELD_LABELS.get(key)
    if own is not None:
        return own
    for program in programs.PROGRAMS.values():  # a program registered after import (a test's own)
        if key in program.field_labels:
            return program.field_labels[key]
    return key


def value_words(key: str, value) -> str | None:
    """A pre-filled field's coded value in words (是/否, 女/男, a program's own codes), or None when it is words
    already or nobody declared it."""
    if isinstance(value, bool):
        return "是" if value else "否"
    words = COMMON_VALUES.get(key) or next(
        (p.field_values[key] for p in programs.PROGRAMS.values() if key in p.field_values and value is not None
         and str(value) in p.field_values[key]), None)
    return words.get(str(value)) if words and value is not None else None
