"""Reference data for imports: Taiyuan districts, GB/T 4761 family relations, sex codes, programs, reasons."""

from __future__ import annotations

from app import digits
from flows import programs as registry

# GB/T 2260 codes of Taiyuan's ten county-level divisions, with 2020-census populations (thousands) used as
# weights by the synthetic city.
TAIYUAN_DISTRICTS: dict[str, tuple[str, int]] = {
    "140105": ("小店区", 1163),
    "140106": ("迎泽区", 623),
    "140107": ("杏花岭区", 660),
    "140108": ("尖草坪区", 497),
    "140109": ("万柏林区", 792),
    "140110": ("晋源区", 248),
    "140121": ("清徐县", 346),
    "140122": ("阳曲县", 121),
    "140123": ("娄烦县", 89),
    "140181": ("古交市", 195),
}

# GB/T 4761-2008 家庭关系代码: every code maps to the name of its group, which is what we store.
HEAD, SPOUSE, SON, DAUGHTER, GRANDCHILD, PARENT, GRANDPARENT, SIBLING, OTHER = (
    "户主", "配偶", "子", "女", "孙子女", "父母", "祖父母", "兄弟姐妹", "其他",
)
_GROUP_BY_FIRST_DIGIT = {
    "0": HEAD, "1": SPOUSE, "2": SON, "3": DAUGHTER, "4": GRANDCHILD,
    "5": PARENT, "6": GRANDPARENT, "7": SIBLING, "8": OTHER, "9": OTHER,
}
_NAMES = {
    HEAD: ("户主", "本人"),
    SPOUSE: ("配偶", "夫", "妻", "丈夫", "妻子"),
    SON: ("子", "儿子", "独生子", "长子", "次子", "三子", "四子", "五子", "养子", "继子", "养子或继子", "女婿",
          "其他儿子"),
    DAUGHTER: ("女", "女儿", "独生女", "长女", "次女", "三女", "四女", "五女", "养女", "继女", "养女或继女",
               "儿媳", "其他女儿"),
    GRANDCHILD: ("孙子女", "孙子", "孙女", "外孙子", "外孙女", "孙子、孙女或外孙子、外孙女", "曾孙子", "曾孙女"),
    PARENT: ("父母", "父亲", "母亲", "公公", "婆婆", "岳父", "岳母", "继父", "继母", "养父", "养母"),
    GRANDPARENT: ("祖父母", "祖父母或外祖父母", "祖父", "祖母", "外祖父", "外祖母", "曾祖父", "曾祖母"),
    SIBLING: ("兄弟姐妹", "兄", "嫂", "弟", "弟媳", "姐姐", "姐夫", "妹妹", "妹夫", "哥哥", "弟弟"),
    OTHER: ("其他", "其他亲属", "非亲属", "伯父", "伯母", "叔父", "婶母", "舅父", "舅母", "姨父", "姨母",
            "姑父", "姑母", "侄子", "侄女", "外甥", "外甥女"),
}
RELATION_BY_NAME = {alias: group for group, aliases in _NAMES.items() for alias in aliases}
RELATION_CODE = {HEAD: "02", SPOUSE: "10", SON: "20", DAUGHTER: "30", GRANDCHILD: "40", PARENT: "50",
                 GRANDPARENT: "60", SIBLING: "70", OTHER: "80"}


def relation_name(raw: str) -> str | None:
    """The stored group name for a GB/T 4761 code (`1`–`99`) or Chinese name; None when unknown."""
    value = raw.strip()
    if digits.is_ascii_digits(value) and len(value) <= 2:
        return _GROUP_BY_FIRST_DIGIT[value.zfill(2)[0]] if value.strip("0") else None
    return RELATION_BY_NAME.get(value)


# Sex: M/F, 男/女 and GB/T 2261.1 codes (1 男, 2 女).
SEX_CODES = {"M": "M", "F": "F", "男": "M", "女": "F", "1": "M", "2": "F"}
HUKOU_VALUES = {"true": True, "1": True, "是": True, "false": False, "0": False, "否": False}

PROGRAMS = tuple(registry.PROGRAMS)  # every registered program (flows.programs)

ERROR, WARNING = "error", "warning"

# The fixed list of reasons a row can get in a reject report (docs/data-contracts.md explains each).
REASONS: dict[str, tuple[str, str]] = {
    "ROW_FORMAT": (ERROR, "the row does not have as many fields as the header, or a field holds a NUL character"),
    "ID_FORMAT": (ERROR, "ID number is not 17 digits and a check character (digit or X)"),
    "ID_CHECKSUM": (ERROR, "ID number's ISO 7064 MOD 11-2 check character is wrong"),
    "ID_BIRTH_DATE_INVALID": (ERROR, "the birth date inside the ID number does not exist (or is before 1880)"),
    "ID_BIRTH_DATE_FUTURE": (ERROR, "the birth date inside the ID number is after today"),
    "ID_BIRTH_MISMATCH": (ERROR, "birth_date differs from the birth date inside the ID number"),
    "ID_SEX_MISMATCH": (ERROR, "sex differs from the ID number's digit 17 (odd = male, even = female)"),
    "DUPLICATE_ID": (ERROR, "the same ID number (beneficiaries: ID number and program) appears more than once "
                            "in the file; all its rows are rejected"),
    "NAME_MISSING": (ERROR, "name is empty"),
    "NAME_INVALID": (ERROR, "name is longer than 64 characters"),
    "SEX_INVALID": (ERROR, "sex is not M/F, 男/女 or 1/2"),
    "BIRTH_DATE_INVALID": (ERROR, "birth_date is not a real date written YYYY-MM-DD"),
    "HOUSEHOLD_MISSING": (ERROR, "household_id is empty"),
    "HOUSEHOLD_INVALID": (ERROR, "household_id is longer than 32 characters"),
    "DISTRICT_UNKNOWN": (ERROR, "district_code is not one of Taiyuan's ten district codes"),
    "STREET_INVALID": (ERROR, "street_code is not 9 digits"),
    "STREET_MISMATCH": (ERROR, "street_code does not start with the district_code"),
    "COMMUNITY_INVALID": (ERROR, "community_code is not 12 digits"),
    "COMMUNITY_MISMATCH": (ERROR, "community_code does not start with the street_code"),
    "HUKOU_INVALID": (ERROR, "hukou_local is not true/false, 1/0 or 是/否"),
    "PHONE_INVALID": (ERROR, "phone is not an 11-digit mainland mobile number (1[3-9]…, optional +86)"),
    "DEATH_DATE_INVALID": (ERROR, "death_date is not YYYY-MM-DD, is in the future or is before the birth date"),
    "RELATION_UNKNOWN": (WARNING, "relation_to_head is not a GB/T 4761 code or name; stored as 其他"),
    "RESIDENT_UNKNOWN": (ERROR, "no resident with this ID number in the population registry"),
    "RESIDENT_DECEASED": (ERROR, "the registry has a death date for this resident"),
    "PROGRAM_UNKNOWN": (ERROR, "program is not one of " + ", ".join(PROGRAMS)),
    "MONTH_INVALID": (ERROR, "start_month is not a real month written YYYY-MM, or is after the current month"),
    "AMOUNT_INVALID": (ERROR, "monthly_amount is not a positive amount in yuan with at most 2 decimals"),
    "PAID_THROUGH_OVERLAPS_ROLL": (WARNING, "paid_through reaches months a closed roll of this service already paid "
                                            "the benefit: those months were paid twice; the row is applied"),
    "PAID_THROUGH_INVALID": (ERROR, "paid_through is not a month written YYYY-MM from the month before start_month "
                                    "to the current month"),
    "BENEFIT_EXISTS": (WARNING, "the resident already has this benefit from an application, or a legacy one "
                                "that is no longer active; the row is not applied"),
}


def severity(code: str) -> str:
    return REASONS[code][0]
