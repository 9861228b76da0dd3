"""schemathesis against the live OpenAPI document, in-process: every operation, with a citizen token and
without one, all default checks."""

from __future__ import annotations

from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app import create_app
from app.config import load_config
from flows.programs.elderly_allowance.scan import scan_turning_80
from tests.builders import make_account, make_resident

APP = create_app(load_config({"testing": True}))
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def citizen_token(session, cfg, wechat):
    from app.api import tokens
    from app.db import SessionLocal

    SessionLocal.remove()
    APP.extensions["zerotrip_config"].wechat_api_base = wechat
    resident, _ = make_resident(session, cfg, birth_date=date(1940, 5, 5))
    scan_turning_80(cfg, date(2026, 11, 25))
    account = make_account(session, resident=resident)
    pair = tokens.start_session(session, cfg, account)
    session.commit()
    return pair["access_token"]


@schema.parametrize()
@SETTINGS
def test_api_with_a_citizen_token(case, citizen_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {citizen_token}"})


@schema.parametrize()
@SETTINGS
def test_api_without_a_token(case, citizen_token):
    case.call_and_validate()
