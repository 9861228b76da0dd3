"""Fixtures for the mock WeChat app: a movable clock, the app, and a small client helper."""

import pytest

from mock_wechat import create_app
from tests.mock_wechat.helpers import FakeClock, Wx


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mock_app(clock):
    return create_app({"clock": clock, "push_async": False})


@pytest.fixture
def wx(mock_app) -> Wx:
    return Wx(mock_app.test_client())
