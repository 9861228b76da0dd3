"""Revocation is immediate in every process: two API processes share the database; a grant revoked and a
sign-in ended through one are refused on the very next request to the other, however warm its caches."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import timedelta

import pytest
import requests

from flows.dates import today_shanghai
from tests.builders import make_id_number
from tests.e2e.conftest import free_port, wait_http

HEADER = ["id_number", "name", "sex", "birth_date", "household_id", "relation_to_head", "district_code",
          "street_code", "community_code", "hukou_local", "phone", "death_date"]


def _person(name, birth, sex, phone, relation):
    return {"id_number": make_id_number(birth, sex), "name": name, "sex": sex, "birth_date": birth.isoformat(),
            "household_id": "H7", "relation_to_head": relation, "district_code": "140105",
            "street_code": "140105001", "community_code": "140105001001", "hukou_local": "true",
            "phone": phone, "death_date": ""}


def _sign_in(stack, person) -> dict:
    login = requests.post(f"{stack.mock}/__mock__/login-code", json={}).json()
    tokens = requests.post(f"{stack.api}/api/v1/auth/wechat-login", json={"code": login["code"]}).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    code = requests.post(f"{stack.mock}/__mock__/phone-code",
                         json={"openid": login["openid"], "phone": person["phone"]}).json()["code"]
    bound = requests.post(f"{stack.api}/api/v1/me/identity", headers=auth,
                          json={"name": person["name"], "id_number": person["id_number"], "phone_code": code})
    assert bound.status_code == 200, bound.text
    return auth


@pytest.fixture
def second_api(stack, tmp_path):
    """Another API process on the same database."""
    port = free_port()
    logs = open(tmp_path / "second.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1"], env=stack.env,
                            stdout=logs, stderr=logs)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        logs.close()


def test_revoked_grant_and_ended_sign_in_are_refused_by_the_other_process(stack, second_api, tmp_path):
    today = today_shanghai()
    mother = _person("赵淑兰", (today - timedelta(days=5)).replace(year=today.year - 82), "F", "13955556666", "户主")
    son = _person("赵志强", today.replace(year=today.year - 52), "M", "13977778888", "子")
    path = tmp_path / "population.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows([mother, son])
    stack.cli("import", "population", str(path), process=True)
    stack.cli("scan", "elderly-allowance", "--as-of", today.isoformat(), process=True)

    mh = _sign_in(stack, mother)
    token = requests.post(f"{stack.api}/api/v1/proxies/invitations", headers=mh, json={}).json()["scene"].split("=", 1)[1]
    sh = _sign_in(stack, son)
    grant = requests.post(f"{stack.api}/api/v1/proxies/invitations/accept", headers=sh, json={"token": token}).json()
    assert grant["status"] == "active"

    for _ in range(3):  # warm the other process: its checked-token cache, pools, compiled statements
        seen = requests.get(f"{second_api}/api/v1/applications", headers=sh, params={"subject": grant["id"]})
        assert seen.status_code == 200 and len(seen.json()) == 1
        app_id = seen.json()[0]["id"]
        assert requests.get(f"{second_api}/api/v1/applications/{app_id}", headers=sh).status_code == 200

    assert requests.post(f"{stack.api}/api/v1/proxies/grants/{grant['id']}/revoke", headers=mh).status_code == 200
    assert requests.get(f"{second_api}/api/v1/applications/{app_id}", headers=sh).status_code in (403, 404)
    assert requests.get(f"{second_api}/api/v1/applications", headers=sh,
                        params={"subject": grant["id"]}).status_code in (403, 404)
    assert requests.get(f"{second_api}/api/v1/me", headers=sh).status_code == 200  # his own sign-in still works

    assert requests.post(f"{stack.api}/api/v1/auth/logout", headers=sh).status_code == 200
    assert requests.get(f"{second_api}/api/v1/me", headers=sh).status_code == 401
    assert requests.get(f"{second_api}/api/v1/applications", headers=sh).status_code == 401
    assert requests.get(f"{second_api}/api/v1/applications", headers=mh).status_code == 200
