"""The story, end to end over HTTP and the CLI only: 李秀英 turns 80 and gets her allowance with zero trips."""

from __future__ import annotations

import csv
import re
from datetime import timedelta

import requests

from flows.dates import today_shanghai
from tests.builders import make_id_number

HEADER = ["id_number", "name", "sex", "birth_date", "household_id", "relation_to_head", "district_code",
          "street_code", "community_code", "hukou_local", "phone", "death_date"]


def _person(name, birth, sex="F", phone="", household="H1", local="true", death=""):
    return {"id_number": make_id_number(birth, sex), "name": name, "sex": sex, "birth_date": birth.isoformat(),
            "household_id": household, "relation_to_head": "户主", "district_code": "140105",
            "street_code": "140105001", "community_code": "140105001001", "hukou_local": local,
            "phone": phone, "death_date": death}


def _write(path, rows, header=HEADER):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def _summary(result) -> dict:
    last = result.stdout.strip().splitlines()[-1]
    return dict(pair.split("=", 1) for pair in last.split())


def test_li_xiuying_gets_her_allowance_without_a_single_trip(stack, tmp_path):
    today = today_shanghai()
    li = _person("李秀英", (today - timedelta(days=3)).replace(year=today.year - 80), phone="13912345678")
    already = _person("王已领", today.replace(year=today.year - 85), household="H2")
    young = _person("赵年轻", today.replace(year=today.year - 60), household="H3", phone="13700000001")
    population = tmp_path / "population.csv"
    _write(population, [li, already, young])
    imported = _summary(stack.cli("import", "population", str(population)))
    assert imported["imported"] == "3" and imported["rejected"] == "0"

    beneficiaries = tmp_path / "beneficiaries.csv"
    _write(beneficiaries, [{"id_number": already["id_number"], "program": "elderly_allowance",
                            "start_month": "2026-01", "monthly_amount": "50.00"}],
           header=["id_number", "program", "start_month", "monthly_amount"])
    assert _summary(stack.cli("import", "beneficiaries", str(beneficiaries)))["rejected"] == "0"

    scan = _summary(stack.cli("scan", "elderly-allowance", "--as-of", today.isoformat()))
    assert scan["proposed"] == "1"
    dispatched = _summary(stack.cli("dispatch", "--once"))
    assert dispatched["no_channel"] == "1"  # she has no account yet: the message waits in her inbox

    # She opens the mini-program: wx.login → our sign-in.
    login = requests.post(f"{stack.mock}/__mock__/login-code", json={}).json()
    tokens = requests.post(f"{stack.api}/api/v1/auth/wechat-login", json={"code": login["code"]}).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(f"{stack.api}/api/v1/applications", headers=auth).json() == []

    # She proves who she is: name + ID number + the phone number WeChat vouches for.
    phone_code = requests.post(f"{stack.mock}/__mock__/phone-code",
                               json={"openid": login["openid"], "phone": "13912345678"}).json()["code"]
    me = requests.post(f"{stack.api}/api/v1/me/identity", headers=auth,
                       json={"name": "李秀英", "id_number": li["id_number"], "phone_code": phone_code})
    assert me.status_code == 200, me.text
    assert me.json()["account"]["identity_status"] == "bound"
    assert li["id_number"] not in me.text and me.json()["resident"]["id_number_masked"].startswith("1***")

    # The pre-filled application, each field with its source; the proposal message is in her inbox.
    apps = requests.get(f"{stack.api}/api/v1/applications", headers=auth).json()
    assert [a["state"] for a in apps] == ["proposed"]
    fields = {f["field"]: f for f in apps[0]["fields"]}
    assert fields["name"]["value"] == "李秀英" and fields["name"]["source"] == "population_registry"
    assert apps[0]["monthly_amount"] == "50.00"
    inbox = requests.get(f"{stack.api}/api/v1/inbox", headers=auth).json()
    assert [i["kind"] for i in inbox] == ["proposal_ready"]

    # The app asks for the "approved" subscription; she accepts the pop-up.
    subs = requests.get(f"{stack.api}/api/v1/subscriptions", headers=auth).json()
    approved_tpl = next(s["template_id"] for s in subs if s["kind"] == "approved")
    requests.post(f"{stack.mock}/__mock__/subscribe",
                  json={"openid": login["openid"], "template_id": approved_tpl, "status": "accept"})
    r = requests.post(f"{stack.api}/api/v1/subscriptions", headers=auth,
                      json={"template_id": approved_tpl, "status": "accept"})
    assert r.status_code in (200, 201), r.text

    # One tap.
    confirmed = requests.post(f"{stack.api}/api/v1/applications/{apps[0]['id']}/confirm", headers=auth)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "approved"
    again = requests.post(f"{stack.api}/api/v1/applications/{apps[0]['id']}/confirm", headers=auth)
    assert again.status_code == 200 and again.json() == confirmed.json()
    benefits = requests.get(f"{stack.api}/api/v1/benefits", headers=auth).json()
    assert [(b["program"], b["monthly_amount"]) for b in benefits] == [("elderly_allowance", "50.00")]

    # The dispatcher sends the subscribe message; WeChat (the mock) accepted it with valid data.
    assert _summary(stack.cli("dispatch", "--once"))["sent"] == "1"
    messages = requests.get(f"{stack.mock}/__mock__/messages", params={"touser": login["openid"]}).json()
    assert len(messages) == 1 and messages[0]["template_id"] == approved_tpl
    assert all(v["value"] for v in messages[0]["data"].values())
    assert li["id_number"] not in str(messages[0]) and not re.search(r"\d{17}[\dXx]", str(messages[0]["data"]))
    kinds = [i["kind"] for i in requests.get(f"{stack.api}/api/v1/inbox", headers=auth).json()]
    assert sorted(kinds) == ["approved", "proposal_ready"]
