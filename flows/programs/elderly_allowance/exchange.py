"""What the exchange answers about the elderly allowance (高龄津贴)."""

from __future__ import annotations

from flows.exchange.answers import BAND, RECEIVING, SINCE, own_benefits
from flows.exchange.datasets import Answer, declare_answer
from flows.programs.elderly_allowance import CODE

declare_answer(Answer(CODE, "高龄津贴（是否、起始月、档次）",
                      {"receiving": RECEIVING, "since": SINCE, "band": BAND}, ("receiving",),
                      own_benefits((CODE,), True), {"receiving": False, "since": None, "band": None},
                      catalogue=("MZ-JZ-103", "3.27.01.13", "有条件", "实时", "benefits"),
                      asked="您是否享受高龄津贴"))
