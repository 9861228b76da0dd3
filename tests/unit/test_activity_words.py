"""Every action staff take on a resident's behalf reads in words in her feed, with a purpose (flows.activity):
an action missing from WHAT showed as 办理了一项业务, without saying what was done."""

from __future__ import annotations

import pytest

from flows.activity import PURPOSES, WHAT


@pytest.mark.parametrize("action", ["staff.letter_sent", "staff.stop_letter", "staff.benefit_recheck",
                                    "staff.notice_list", "staff.notice_sheet", "staff.decision_letter"])
def test_letters_rechecks_and_notices_have_words_and_a_purpose(action):
    assert WHAT[action] and PURPOSES[action][1]
