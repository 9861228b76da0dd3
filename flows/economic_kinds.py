"""The kinds of the economic-check records (家庭经济状况核对: incomes by month, assets) that partner imports
bring (`zerotrip import economic`, docs/data-contracts.md) and that the programs which check a household's
means read. Pure data."""

from __future__ import annotations

INCOME_KINDS = ("income_wage", "income_business", "income_pension", "income_property", "income_transfer",
                "income_other")
ASSET_KINDS = ("real_estate", "vehicle", "company", "deposit")
KIND_NAMES = {
    "income_wage": "工资性收入", "income_business": "经营净收入", "income_pension": "养老金",
    "income_property": "财产净收入", "income_transfer": "转移净收入", "income_other": "其他收入",
    "real_estate": "房产", "vehicle": "机动车", "company": "工商注册企业", "deposit": "存款及金融资产",
}
