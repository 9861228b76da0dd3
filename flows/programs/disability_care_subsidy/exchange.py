"""What the exchange answers about the two disability subsidies (残疾人两项补贴: this program and the living
subsidy, which names this module as its exchange declaration too)."""

from __future__ import annotations

from flows.exchange.answers import RECEIVING, SINCE, own_benefits
from flows.exchange.datasets import Answer, declare_answer

declare_answer(Answer("disability_subsidy", "残疾人两项补贴（是否在享）",
                      {"receiving": RECEIVING, "since": SINCE}, ("receiving",),
                      own_benefits(("disability_care_subsidy", "disability_living_subsidy"), False),
                      {"receiving": False, "since": None},
                      catalogue=("MZ-JZ-102", "3.27.01.12", "有条件", "实时", "benefits"),
                      asked="您是否享受残疾人补贴"))
