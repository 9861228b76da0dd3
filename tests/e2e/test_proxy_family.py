"""End to end over HTTP: the father invites, his daughter (same household) scans the QR code, signs in and
accepts, confirms his proposed allowance, he sees it attributed to her, he revokes, she is refused."""

from __future__ import annotations

import base64
import csv
import re
from datetime import timedelta

import requests

from flows.dates import today_shanghai
from tests.builders import make_id_number

HEADER = ["id_number", "name", "sex", "birth_date", "household_id", "relation_to_head", "district_code",
          "street_code", "community_code", "hukou_local", "phone", "death_date"]


def _person(name, birth, sex, phone, household="H9", relation="户主"):
    return {"id_number": make_id_number(birth, sex), "name": name, "sex": sex, "birth_date": birth.isoformat(),
            "household_id": household, "relation_to_head": relation, "district_code": "140105",
            "street_code": "140105001", "community_code": "140105001001", "hukou_local": "true",
            "phone": phone, "death_date": ""}


def _sign_in(stack, person):
    login = requests.post(f"{stack.mock}/__mock__/login-code", json={}).json()
    tokens = requests.post(f"{stack.api}/api/v1/auth/wechat-login", json={"code": login["code"]}).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    code = requests.post(f"{stack.mock}/__mock__/phone-code",
                         json={"openid": login["openid"], "phone": person["phone"]}).json()["code"]
    bound = requests.post(f"{stack.api}/api/v1/me/identity", headers=auth,
                          json={"name": person["name"], "id_number": person["id_number"], "phone_code": code})
    assert bound.status_code == 200, bound.text
    return auth


def test_father_invites_daughter_confirms_father_sees_it_and_revokes(stack, tmp_path):
    today = today_shanghai()
    father = _person("王建国", (today - timedelta(days=2)).replace(year=today.year - 80), "M", "13911112222")
    daughter = _person("王小红", today.replace(year=today.year - 50), "F", "13933334444", relation="女")
    path = tmp_path / "population.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows([father, daughter])
    stack.cli("import", "population", str(path))
    stack.cli("scan", "elderly-allowance", "--as-of", today.isoformat())

    fh = _sign_in(stack, father)
    invitation = requests.post(f"{stack.api}/api/v1/proxies/invitations", headers=fh, json={})
    assert invitation.status_code == 201, invitation.text
    inv = invitation.json()
    for key in ("qr_png", "wxacode_png"):
        assert base64.b64decode(inv[key]).startswith(b"\x89PNG"), key
    token = inv["scene"].split("=", 1)[1]  # what the mini-program reads from the scanned code

    dh = _sign_in(stack, daughter)
    accepted = requests.post(f"{stack.api}/api/v1/proxies/invitations/accept", headers=dh, json={"token": token})
    assert accepted.status_code == 200 and accepted.json()["status"] == "active"  # one household: at once
    grant_id = accepted.json()["id"]

    apps = requests.get(f"{stack.api}/api/v1/applications", headers=dh, params={"subject": grant_id}).json()
    assert [a["state"] for a in apps] == ["proposed"]
    confirmed = requests.post(f"{stack.api}/api/v1/applications/{apps[0]['id']}/confirm", headers=dh)
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "approved"

    mine = requests.get(f"{stack.api}/api/v1/applications/{apps[0]['id']}", headers=fh).json()
    assert mine["confirmed_by_proxy"] == "王*红"
    activity = requests.get(f"{stack.api}/api/v1/proxies/activity", headers=fh).json()
    assert any(a["action"] == "application.confirm" and a["actor_name"] == "王*红" for a in activity)

    assert requests.post(f"{stack.api}/api/v1/proxies/grants/{grant_id}/revoke", headers=fh).status_code == 200
    after = requests.get(f"{stack.api}/api/v1/applications/{apps[0]['id']}", headers=dh)
    assert after.status_code in (403, 404)
    assert requests.get(f"{stack.api}/api/v1/applications", headers=dh,
                        params={"subject": grant_id}).status_code in (403, 404)

    verify = stack.cli("audit", "verify")
    assert "ok=1" in verify.stdout
    logs = stack.server_logs()
    for secret in (father["id_number"], daughter["id_number"]):
        assert secret not in logs and secret not in str(activity)
    assert not re.search(r"eyJ[\w-]+\.[\w-]+\.", logs) and "session_key" not in logs
