"""Ratings go through the HTTP API in-process, with mock WeChat on a loopback port (as tests/api does)."""

from tests.api.conftest import Citizen, citizen, wechat, wechat_server  # noqa: F401
