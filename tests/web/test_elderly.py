"""适老化, measured: computed font sizes, target sizes, AAA contrast (axe-core), 320 px and 200% zoom."""

from __future__ import annotations

from tests.web.conftest import axe, sign_in_and_bind

MEASURE = """() => {
  const visible = el => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !el.closest('[hidden]') && !el.matches('.skip'); };
  const px = el => parseFloat(getComputedStyle(el).fontSize);
  const text = [...document.querySelectorAll('header a, header button, main p, main li, main dd, main dt, main label,'
      + ' main a, main button, main span, main time, main input, main textarea, main legend')]
    .filter(visible).filter(el => el.matches('input, textarea') || el.textContent.trim());
  const targets = [...document.querySelectorAll('a[href], button, input:not([type=radio]), textarea, select, .choice label')]
    .filter(visible);
  const heading = sel => { const el = document.querySelector(sel); return el ? px(el) : null; };
  return {
    body: px(document.body), h1: heading('main h1'), h2: heading('main h2'),
    small: text.filter(el => px(el) < 18).map(el => el.tagName + ' ' + px(el) + ' ' + el.textContent.slice(0, 20)),
    tiny: targets.map(el => [el, el.getBoundingClientRect()]).filter(([, r]) => r.width < 48 || r.height < 48)
      .map(([el, r]) => el.tagName + ' ' + Math.round(r.width) + 'x' + Math.round(r.height) + ' ' + el.textContent.slice(0, 20)),
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    primaries: document.querySelectorAll('main .btn.primary').length,
  };
}"""

SCREENS = ["#/home", "#/apps", "#/benefits", "#/inbox", "#/family", "#/guide", "#/guide/elderly_allowance",
           "#/dibao"]


def _screens(p, app_id):
    return [*SCREENS, f"#/app/{app_id}", f"#/app/{app_id}/decline"]


def test_elderly_mode_is_on_for_80_year_olds_and_measures_up(phone, city):
    city.scan()
    p = phone()
    sign_in_and_bind(p, city.li)
    assert p.page.evaluate("document.documentElement.classList.contains('elder')"), "on by default at 80"
    app_id = p.page.get_attribute("main a.btn.primary", "href").split("/")[2]
    for screen in _screens(p, app_id):
        p.go(screen)
        m = p.page.evaluate(MEASURE)
        assert m["body"] >= 18 and m["small"] == [], (screen, m)
        assert m["h1"] >= 1.3 * m["body"] and (m["h2"] is None or m["h2"] > m["body"]), (screen, m)
        assert m["tiny"] == [], (screen, m["tiny"])
        assert m["primaries"] <= 1 and m["overflow"] <= 0, (screen, m)
        assert axe(p.page, enhanced=True) == [], screen  # contrast ≥ 7:1 (WCAG AAA), by axe-core

    # The same screens at 320 px wide and at 200% zoom (a 195-px-wide layout viewport): nothing cut off.
    state = p.context.storage_state()
    for viewport in ({"width": 320, "height": 640}, {"width": 195, "height": 422}):
        small = phone(viewport=viewport, storage_state=state)
        small.open("#/home")
        for screen in _screens(small, app_id):
            small.go(screen)
            m = small.page.evaluate(MEASURE)
            assert m["overflow"] <= 0, (viewport, screen, m)
            assert small.page.locator("main h1").is_visible()


def test_anyone_can_switch_elderly_mode_and_it_stays(phone, city):
    p = phone()
    sign_in_and_bind(p, city.young)
    assert not p.page.evaluate("document.documentElement.classList.contains('elder')"), "off at 35"
    assert p.page.evaluate(MEASURE)["body"] == 16
    assert p.page.get_attribute("#elder-toggle", "aria-pressed") == "false"
    p.page.click("#elder-toggle")
    assert p.page.get_attribute("#elder-toggle", "aria-pressed") == "true"
    assert p.page.evaluate(MEASURE)["small"] == []
    p.page.reload()
    p.settle()
    assert p.page.evaluate("document.documentElement.classList.contains('elder')"), "the choice is kept"
    p.page.click("#elder-toggle")
    p.page.reload()
    p.settle()
    assert not p.page.evaluate("document.documentElement.classList.contains('elder')")
