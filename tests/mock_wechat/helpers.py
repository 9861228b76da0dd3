"""Shared helpers for the mock WeChat tests (imported by conftest and test modules)."""

from mock_wechat.templates import load_templates

APPID = "wx0000000000devapp"
SECRET = "devsecret0000000000000000000000000"
ONE_TIME = "ZT_APPROVED_0001"
LONG_TERM = "ZT_PAYMENT_STARTED_0001"


class FakeClock:
    def __init__(self, start: float = 1_750_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def example_data(template_id: str) -> dict:
    template = load_templates()[template_id]
    return {k["key"]: {"value": k["example"]} for k in template.keywords}


class Wx:
    """Thin helper over the Flask test client."""

    def __init__(self, client):
        self.client = client

    def token(self) -> str:
        url = f"/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={SECRET}"
        return self.client.get(url).get_json()["access_token"]

    def login_code(self, openid: str | None = None) -> dict:
        return self.client.post("/__mock__/login-code", json={"openid": openid} if openid else {}).get_json()

    def user(self) -> str:
        return self.login_code()["openid"]

    def subscribe(self, openid: str, template_id: str, status: str = "accept") -> dict:
        body = {"openid": openid, "template_id": template_id, "status": status}
        return self.client.post("/__mock__/subscribe", json=body).get_json()

    def send(self, token: str, openid: str, template_id: str, data: dict | None = None):
        body = {"touser": openid, "template_id": template_id,
                "data": example_data(template_id) if data is None else data}
        return self.client.post(f"/cgi-bin/message/subscribe/send?access_token={token}", json=body)
