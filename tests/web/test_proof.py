"""Proof of a benefit in a real browser: obtained in /m/, checked on /verify (offline with WebCrypto and the trust
list, then online); revoked after the benefit stops; tampered and expired codes fail in words; axe clean."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import requests

from tests.proofs.test_proof_api import _offline_verify, _retamper
from tests.web.conftest import ROOT, SHOTS, axe, check_screen, sign_in_and_bind


def _approved_benefit(p, city) -> None:
    assert city.scan()["proposed"] == "2"
    sign_in_and_bind(p, city.li)
    p.page.click("text=查看并确认")
    p.settle()
    p.page.click("main .btn.primary")
    p.page.wait_for_selector("text=申请已通过!")
    p.settle()


def _verifier(phone, stack):
    v = phone()
    v.page.goto(f"{stack.api}/verify")
    v.page.wait_for_function("document.body.dataset.screen === 'verify'")
    return v


def _check(v, code: str) -> str:
    v.page.evaluate("document.getElementById('result').replaceChildren()")
    v.page.fill("#f-code", code)
    v.page.click("main button[type=submit]")
    verdict = v.page.locator("#result [data-verdict]")
    verdict.wait_for()
    return verdict.get_attribute("data-verdict"), v.page.inner_text("#result")


def _no_serious(v, name: str) -> None:
    """axe in normal and elderly mode (the page follows the front end's saved choice); screenshots on request."""
    for on in (False, True):
        v.page.evaluate("on => document.documentElement.classList.toggle('elder', on)", on)
        assert axe(v.page) == [], f"{name} ({'elder' if on else 'normal'})"
        if SHOTS:
            target = ROOT / "docs" / "screenshots" if SHOTS == "1" else Path(SHOTS)
            target.mkdir(parents=True, exist_ok=True)
            v.page.screenshot(path=str(target / f"{name}-{'elder' if on else 'normal'}.png"), full_page=True)
    v.page.evaluate("document.documentElement.classList.remove('elder')")


def test_a_proof_from_m_verifies_offline_and_online_and_is_revoked_when_the_benefit_stops(phone, city, stack, session,
                                                                                          cfg):
    p = phone()
    _approved_benefit(p, city)
    p.go("#/benefits")
    p.page.click("text=出示电子证明")
    p.settle()
    assert p.screen() == "proof"
    main = p.page.inner_text("main")
    assert "补贴电子证明" in main and "高龄津贴" in main and city.li["id_number"][-4:] in main and "李*英" in main
    assert "80至89岁" in main, "the tier band in words"
    assert city.li["id_number"] not in p.page.content()
    check_screen(p, "proof")
    code = p.page.input_value("#proof-code")
    assert p.page.locator("main img.qr").evaluate("i => i.complete && i.naturalWidth > 100")

    # The code from /m/ verifies with the trust list alone (library, no server after the list is fetched).
    trust = requests.get(f"{stack.api}/api/v1/proofs/trust-list", timeout=30).json()
    assert _offline_verify(code, trust)[-65537]["n"] == "李*英"

    # The verification page: online, then with the network cut (WebCrypto and the saved trust list).
    v = _verifier(phone, stack)
    _no_serious(v, "verify")
    verdict, text = _check(v, code)
    assert verdict == "valid" and "有效" in text and "李*英" in text and city.li["id_number"][-4:] in text, text
    assert "80至89岁" in text
    _no_serious(v, "verify-valid")
    # The network drops at the counter: the page checks the signature itself (WebCrypto, the trust list it holds).
    v.context.set_offline(True)
    v.page.wait_for_function("!navigator.onLine")
    verdict, text = _check(v, code)
    assert verdict == "offline" and "离线核验" in text, text
    v.context.set_offline(False)
    v.page.wait_for_function("navigator.onLine")

    # Tampered: a raised tier under the same signature; damaged text; not a proof at all — each in words.
    def raise_tier(parts):
        import cbor2

        claims = cbor2.loads(parts[2])
        claims[-65537] = {**claims[-65537], "t": "100+"}
        parts[2] = cbor2.dumps(claims)

    for bad, expected, words in ((_retamper(code, raise_tier), "bad_signature", "签名不对"),
                                 (code[:40] + code[41:], "malformed", "不是补贴电子证明码"),
                                 ("hello", "malformed", "不是补贴电子证明码")):
        verdict, text = _check(v, bad)
        assert verdict == expected and words in text, (expected, text)
    _no_serious(v, "verify-invalid")

    # The benefit stops (death recorded, the daily lifecycle run): the same code now shows as revoked.
    from app.models import Resident
    from flows.lifecycle.jobs import run_daily

    li = session.query(Resident).filter_by(name="李秀英").one()
    li.death_date = city.today - timedelta(days=1)
    session.commit()
    assert run_daily(cfg, city.today).counts["stopped_death"] == 1
    verdict, text = _check(v, code)
    assert verdict == "revoked" and "已撤销" in text, text


def test_an_expired_code_fails_in_words_and_a_picture_can_be_uploaded(phone, city, stack, tmp_path):
    p = phone()
    _approved_benefit(p, city)
    p.go("#/benefits")
    p.page.click("text=出示电子证明")
    p.settle()
    code = p.page.input_value("#proof-code")
    v = phone()
    v.context.clock.set_fixed_time(p.page.evaluate("Date.now()") + 32 * 24 * 3600 * 1000)
    v.page.goto(f"{stack.api}/verify")
    v.page.wait_for_function("document.body.dataset.screen === 'verify'")
    verdict, text = _check(v, code)
    assert verdict == "expired" and "已过期" in text, text

    # Upload of a picture: Linux Chromium has no BarcodeDetector, so the page says to paste the text …
    plain = _verifier(phone, stack)
    assert "不能识别图片中的二维码" in plain.page.inner_text("main")
    # … and where a detector exists (a stand-in here that reports what the picture holds), the picture is
    # handed to it and its code verified like a pasted one.
    png = p.page.locator("main img.qr").get_attribute("src").split(",", 1)[1]
    import base64

    picture = tmp_path / "proof.png"
    picture.write_bytes(base64.b64decode(png))
    scanner = phone()
    scanner.context.add_init_script(
        "window.__seen = 0; window.BarcodeDetector = class { constructor(o) { this.o = o; } "
        "async detect(img) { window.__seen = img.width; return [{ rawValue: " + json.dumps(code) + " }]; } };")
    scanner.page.goto(f"{stack.api}/verify")
    scanner.page.wait_for_function("document.body.dataset.screen === 'verify'")
    scanner.page.set_input_files("#f-image", str(picture))
    verdict = scanner.page.locator("#result [data-verdict]")
    verdict.wait_for()
    assert verdict.get_attribute("data-verdict") == "valid"
    assert scanner.page.evaluate("window.__seen") > 100, "the uploaded picture reached the detector"
    assert axe(scanner.page) == []

    # The status service failing is said as such: the signature is good, the status unknown for now.
    scanner.page.route("**/api/v1/proofs/*/status", lambda route: route.fulfill(status=503, body="{}"))
    verdict, text = _check(scanner, code)
    assert verdict == "unavailable" and "签名正确" in text and "稍后" in text, text
