"""In a JSON body a boolean is a JSON boolean (and a number a JSON number), as the OpenAPI document says:
marshmallow alone read `"yes"` as true and `"39.9"` as a number. A staff password is at least 12 characters in
the document as on the server."""

from __future__ import annotations

import pytest

from app.models import Approval
from tests.authz import helpers as h

PARAM = {"program": "elderly_allowance", "key": "minimum_age", "value": "75", "from": "2027-01"}


@pytest.mark.parametrize("arrears", ["yes", "true", 1, 0, "1", [], {}])
def test_a_boolean_in_a_body_is_true_or_false(client, session, cfg, arrears):
    _, admin = h.staff(session, cfg, "admin", username=f"admin-{abs(hash(repr(arrears))) % 10**6}")
    resp = client.post("/api/v1/staff/params", headers=admin, json={**PARAM, "arrears": arrears})
    assert resp.status_code == 422 and list(resp.json["errors"]["json"]) == ["arrears"], resp.json
    assert session.query(Approval).count() == 0
    assert client.post("/api/v1/staff/params", headers=admin, json={**PARAM, "arrears": False}).status_code == 201


def test_a_new_staff_password_has_at_least_12_characters_in_the_document_too(client, session, cfg):
    _, admin = h.staff(session, cfg, "admin", username="exchange-admin")
    schema = client.get("/openapi.json").json["components"]["schemas"]
    assert schema["WorkbenchAccountArgs"]["properties"]["password"]["minLength"] == 12
    assert schema["WorkbenchResetArgs"]["properties"]["password"]["minLength"] == 12
    short = client.post("/api/v1/staff/accounts", headers=admin, json={
        "username": "short-pw", "display_name": "短", "role": "clerk", "district_code": "140105",
        "password": "elevenchars"})
    assert short.status_code == 422 and short.json["error_code"] == "password_too_short"
