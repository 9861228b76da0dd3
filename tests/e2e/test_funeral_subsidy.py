"""惠民殡葬补贴 and 身后一件事 end to end through the CLI and HTTP: a father with an elderly allowance dies; the
funeral home names his married daughter (another household, no grant) as 治丧人; she confirms the subsidy (the
amount already waived is not paid again) and is paid once in the next roll to her own account; his wife (same
household) receives exactly one 身后一件事 message listing the stopped allowance; a re-import changes nothing."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import requests

from flows.dates import today_shanghai
from tests.builders import make_id_number
from tests.e2e.test_proxy_family import HEADER, _person, _sign_in


def _csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def _inbox(stack, auth):
    return requests.get(f"{stack.api}/api/v1/inbox", headers=auth).json()


def _dispatch(stack):
    for _ in range(3):  # the deceased's message fans out to the family, whose copies go out on the next pass
        stack.cli("dispatch", "--once")


def test_daughter_as_arranger_confirms_family_gets_one_message_reimport_changes_nothing(stack, tmp_path):
    today = today_shanghai()
    father = _person("李建国", today.replace(year=today.year - 85) - timedelta(days=40), "M", "13911110001")
    mother = _person("张桂兰", today.replace(year=today.year - 80) - timedelta(days=40), "F", "13911110002",
                     relation="妻")
    daughter = _person("李小红", today.replace(year=today.year - 50), "F", "13911110003", household="H7")
    stack.cli("import", "population", _csv(tmp_path / "population.csv", HEADER, [father, mother, daughter]))
    stack.cli("scan", "elderly-allowance", "--as-of", (today - timedelta(days=30)).isoformat())
    fh = _sign_in(stack, father)
    own = requests.get(f"{stack.api}/api/v1/applications", headers=fh).json()
    assert requests.post(f"{stack.api}/api/v1/applications/{own[0]['id']}/confirm",
                         headers=fh).json()["state"] == "approved"
    mh = _sign_in(stack, mother)
    dh = _sign_in(stack, daughter)

    died = today - timedelta(days=3)
    stack.cli("import", "deaths", _csv(tmp_path / "deaths.csv", ["id_number", "death_date", "source"],
                                       [{"id_number": father["id_number"], "death_date": died.isoformat(),
                                         "source": "health"}]))
    cremation_header = ["id_number", "funeral_home", "cremation_date", "arranger_name", "arranger_id_number",
                        "arranger_phone", "services", "waived_amount"]
    cremations = _csv(tmp_path / "cremations.csv", cremation_header, [{
        "id_number": father["id_number"], "funeral_home": "太原市殡仪馆", "cremation_date": (died + timedelta(days=2))
        .isoformat(), "arranger_name": daughter["name"], "arranger_id_number": daughter["id_number"],
        "arranger_phone": daughter["phone"], "services": "接运;冷藏;火化", "waived_amount": "800.00"}])
    first = stack.cli("import", "cremations", cremations)
    assert "imported=1" in first.stdout, first.stdout
    stack.cli("scheduler", "run-once", "--as-of", today.isoformat())
    _dispatch(stack)

    apps = requests.get(f"{stack.api}/api/v1/applications", headers=dh).json()
    funeral = [a for a in apps if a["program"] == "funeral_subsidy"]
    assert len(funeral) == 1 and funeral[0]["state"] == "proposed"
    assert funeral[0]["applicants"] == [{"name": "李*红", "role": "funeral_arranger", "role_text": "治丧人",
                                         "state": "proposed"}]
    fields = {f["field"]: f["value"] for f in funeral[0]["fields"]}
    assert fields["one_off_amount"] == "400.00" and fields["waived_amount"] == "800.00"
    proposal = [m for m in _inbox(stack, dh) if m["kind"] == "proposal_ready"]
    assert len(proposal) == 1 and "深表哀悼" in proposal[0]["body"] and "恭喜" not in proposal[0]["body"]
    # she holds no grant: nothing else of her late father's is visible to her
    assert requests.get(f"{stack.api}/api/v1/applications/{own[0]['id']}", headers=dh).status_code == 404

    confirmed = requests.post(f"{stack.api}/api/v1/applications/{funeral[0]['id']}/confirm", headers=dh)
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["state"] == "approved" and body["applicants"][0]["state"] == "confirmed"
    assert any("已直接减免800.00元" in t["text"] for t in body["trace"])

    family = [m for m in _inbox(stack, mh) if m["kind"] in ("after_death", "benefit_stopped")]
    assert len(family) == 1 and family[0]["kind"] == "after_death", family
    text = family[0]["body"]
    stop_month = f"{(died.replace(day=1) + timedelta(days=32)).year}年{(died.replace(day=1) + timedelta(days=32)).month}月"
    assert f"高龄津贴自{stop_month}起停发" in text, text
    assert "惠民殡葬补贴" in text and "深表哀悼" in text and "12345" in text and "恭喜" not in text

    # a re-import of the same cremation and another day's run change nothing
    again = stack.cli("import", "cremations", cremations)
    assert "imported=0" in again.stdout and "updated=0" in again.stdout and "unchanged=1" in again.stdout
    stack.cli("scheduler", "run-once", "--as-of", (today + timedelta(days=1)).isoformat())
    _dispatch(stack)
    assert len([m for m in _inbox(stack, mh) if m["kind"] in ("after_death", "benefit_stopped")]) == 1
    assert len([a for a in requests.get(f"{stack.api}/api/v1/applications", headers=dh).json()
                if a["program"] == "funeral_subsidy"]) == 1

    # paid once, in the next roll, to her own account
    stack.cli("import", "payout-accounts", _csv(tmp_path / "accounts.csv",
                                                ["id_number", "kind", "bank_name", "account_number"],
                                                [{"id_number": daughter["id_number"], "kind": "bank",
                                                  "bank_name": "中国银行", "account_number": "6216610200016587010"}]))
    month = f"{today:%Y-%m}"
    out = tmp_path / "bank"
    stack.cli("payroll", "--month", month, "--close", "--out", str(out))
    # the closed roll is released only after a supervisor signed its anomaly report off (issue 12)
    stack.cli("staff", "add", "--username", "sup1", "--role", "supervisor", "--district", "140105",
              "--password", "correct horse battery", "--id-number", make_id_number(date(1980, 3, 3), "M"))
    stack.env["ZEROTRIP_PASSWORD"] = "correct horse battery"
    stack.cli("payroll", "sign-off", "--month", month, "--by", "sup1", "--note", "异常报告已核对")
    stack.cli("payroll", "release", "--month", month, "--by", "sup1", "--out", str(out))
    rows = list(csv.DictReader(open(out / f"bank-{month}-funeral_subsidy.csv", encoding="utf-8-sig")))
    assert [(r["name"], r["amount"]) for r in rows] == [("李小红", "400.00")]
