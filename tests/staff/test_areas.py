"""Area names (issue 12 item 10): `zerotrip import areas FILE` and `--synthetic`, the API returns code and name."""

from __future__ import annotations

from click.testing import CliRunner


def _cli(cfg, *args):
    from app.cli import cli as zerotrip

    return CliRunner().invoke(zerotrip, list(args), env={"DATABASE_URL": cfg.database_url}, catch_exceptions=False)


def _last(result) -> dict:
    return dict(p.split("=", 1) for p in result.stdout.strip().splitlines()[-1].split())


def test_import_areas_validates_rows_and_the_api_returns_code_and_name(cfg, client, tmp_path):
    path = tmp_path / "areas.csv"
    path.write_text("code,name,valid_from,valid_to\n"
                    "140105,小店区,,\n"
                    "140105001,旧名街道,2010-01-01,2020-01-01\n"
                    "140105001,坞城街道,2020-01-01,\n"
                    "１４０１０５００２,全角街道,,\n"
                    "14010500,短码,,\n"
                    "140105003,,,\n"
                    "140105004,倒序街道,2020-01-01,2019-01-01\n"
                    "140105005,坏日期,2020-13-01,\n"
                    "140105001001,双塔社区,,\n"
                    "140105001001,双塔社区二,,\n", encoding="utf-8")
    result = _cli(cfg, "import", "areas", str(path))
    assert result.exit_code == 0, result.output
    assert _last(result) == {"imported": "3", "updated": "0", "unchanged": "0", "rejected": "7"}
    for reason in ("CODE_INVALID", "NAME_INVALID", "DATES_REVERSED", "DATE_INVALID", "DUPLICATE_CODE"):
        assert reason in result.stderr
    assert _last(_cli(cfg, "import", "areas", str(path)))["unchanged"] == "3"
    got = client.get("/api/v1/areas?codes=140105,140105001,140106")
    assert got.status_code == 200
    assert [{k: a[k] for k in ("code", "name")} for a in got.json] == [
        {"code": "140105", "name": "小店区"}, {"code": "140105001", "name": "坞城街道"},
        {"code": "140106", "name": None}]
    assert all(a["office_phone"] is None for a in got.json)  # a file without the column records none
    wide = client.get("/api/v1/areas?codes=１４０１０５")  # full-width digits read as 0-9, as every number
    assert wide.status_code == 200 and [a["name"] for a in wide.json] == ["小店区"], wide.json
    for odd in ("140105%0A", "14010%D9%A5", "1401O5"):  # a final newline, an Arabic-Indic digit, a letter O
        assert client.get(f"/api/v1/areas?codes={odd}").status_code == 422, odd
    bad = tmp_path / "bad.csv"
    bad.write_text("code,label\n140105,x\n", encoding="utf-8")
    assert _cli(cfg, "import", "areas", str(bad)).exit_code == 2


def test_the_synthetic_city_has_names_for_every_code(cfg, client):
    result = _cli(cfg, "import", "areas", "--synthetic")
    assert result.exit_code == 0 and int(_last(result)["imported"]) > 100
    got = client.get("/api/v1/areas?codes=140105,140105001,140105001001").json
    assert got[0]["name"] == "小店区" and got[1]["name"].endswith("街道") and got[2]["name"].endswith("社区")
    assert _last(_cli(cfg, "import", "areas", "--synthetic"))["imported"] == "0"


def test_the_case_page_names_the_residents_area(cfg, session, client):
    from tests.authz import helpers as h

    assert _cli(cfg, "import", "areas", "--synthetic").exit_code == 0
    person, _, _ = h.person(session, cfg, street="140105001", community="140105001001")
    app = h.application(session, person, program="disability_care_subsidy", state="reviewing")
    _, reviewer = h.staff(session, cfg, "reviewer")
    resident = client.get(f"/api/v1/staff/applications/{app.id}/case", headers=reviewer).json["resident"]
    assert resident["district_name"] == "小店区" and resident["street_code"] == "140105001"
    assert resident["street_name"].endswith("街道") and resident["community_name"].endswith("社区")


def test_import_areas_with_office_phones_normalises_full_width_digits_and_refuses_bad_phones(cfg, client, tmp_path):
    path = tmp_path / "offices.csv"
    path.write_text("code,name,valid_from,valid_to,office_phone,office_address\n"
                    "140105001,坞城街道,,,0351-7654321,太原市小店区坞城路1号\n"
                    "140105002,全角街道,,,０３５１－７６５４３２２,\n"
                    "140105003,全角横线,,,０３５１-7654323,\n"
                    "140105004,无电话街道,,,,\n"
                    "140105005,字母电话,,,0351-CALL-ME,\n"
                    "140105006,阿拉伯数字,,,٠٣٥١-7654321,\n"
                    "140105007,双横线,,,0351--7654321,\n"
                    "140105008,太长,,,0351-76543217654321765,\n"
                    "140105009,空格,,,0351 7654321,\n"
                    f"140105010,长地址,,,12345,{'路' * 129}\n", encoding="utf-8")
    result = _cli(cfg, "import", "areas", str(path))
    assert result.exit_code == 0, result.output
    assert _last(result) == {"imported": "3", "updated": "0", "unchanged": "0", "rejected": "7"}
    assert "PHONE_INVALID" in result.stderr and "ADDRESS_INVALID" in result.stderr
    assert "line 3: 140105002" in result.stderr  # a full-width '－' is not a '-': refused, with its line
    got = {a["code"]: a for a in client.get(
        "/api/v1/areas?codes=140105001,140105003,140105004,140105005").json}
    assert got["140105001"]["office_phone"] == "0351-7654321"
    assert got["140105001"]["office_address"] == "太原市小店区坞城路1号"
    assert got["140105003"]["office_phone"] == "0351-7654323"  # full-width digits → ASCII
    assert got["140105004"]["office_phone"] is None and got["140105005"]["name"] is None

    # a file without the office columns leaves the recorded phone; one with it empty clears it
    names_only = tmp_path / "names.csv"
    names_only.write_text("code,name,valid_from,valid_to\n140105001,坞城街道,,\n", encoding="utf-8")
    assert _last(_cli(cfg, "import", "areas", str(names_only)))["unchanged"] == "1"
    cleared = tmp_path / "cleared.csv"
    cleared.write_text("code,name,valid_from,valid_to,office_phone\n140105001,坞城街道,,,\n", encoding="utf-8")
    assert _last(_cli(cfg, "import", "areas", str(cleared)))["updated"] == "1"
    assert client.get("/api/v1/areas?codes=140105001").json[0]["office_phone"] is None


def test_the_synthetic_streets_have_an_office_phone_and_communities_none(cfg, client):
    assert _cli(cfg, "import", "areas", "--synthetic").exit_code == 0
    district, street, community = client.get("/api/v1/areas?codes=140105,140105001,140105001001").json
    assert district["office_phone"].startswith("0351-") and street["office_phone"].startswith("0351-")
    assert street["office_address"].startswith("太原市小店区")
    assert community["office_phone"] is None


def test_me_and_the_proposal_give_area_names_beside_the_codes(cfg, session, client):
    from tests.authz import helpers as h

    person, account, _ = h.person(session, cfg, street="140105001", community="140105001001")
    headers = h.headers_for(session, cfg, account)
    before = client.get("/api/v1/me", headers=headers).json["resident"]
    assert before["street_code"] == "140105001" and before["street_name"] is None
    assert _cli(cfg, "import", "areas", "--synthetic").exit_code == 0
    me = client.get("/api/v1/me", headers=headers).json["resident"]
    assert me["street_code"] == "140105001" and me["street_name"].endswith("街道")
    assert me["district_name"] == "小店区" and me["community_name"].endswith("社区")
    app = h.application(session, person, program="disability_care_subsidy", state="reviewing")
    app.prefill = {"street_code": {"value": "140105001", "source": "population_registry", "source_date": "2026-11-01"},
                   "community_code": {"value": "140105001001", "source": "population_registry"}}
    session.commit()
    fields = {f["field"]: f for f in client.get(f"/api/v1/applications/{app.id}", headers=headers).json["fields"]}
    assert fields["street_code"]["value"] == "140105001" and fields["street_code"]["value_name"] == me["street_name"]
    assert fields["community_code"]["value_name"] == me["community_name"]
    listed = client.get("/api/v1/applications", headers=headers).json
    items = listed["items"] if isinstance(listed, dict) else listed
    assert any(f.get("value_name") == me["street_name"] for a in items for f in a["fields"])
    _, reviewer = h.staff(session, cfg, "reviewer")
    prefill = {f["field"]: f for f in client.get(f"/api/v1/staff/applications/{app.id}/case",
                                                 headers=reviewer).json["prefill"]}
    assert prefill["street_code"]["value_name"] == me["street_name"]


def test_import_areas_reads_the_header_as_every_import_and_names_physical_lines(cfg, tmp_path):
    path = tmp_path / "areas.csv"
    path.write_text(" Code ,NAME,Valid_From,valid_to\n"
                    "140106,迎泽区,,\n"
                    "\n"
                    "1401060,短码,,\n"
                    "140106001,\"柳巷\n街道\",,\n"
                    "140106002,,,\n", encoding="utf-8")
    result = _cli(cfg, "import", "areas", str(path))
    assert result.exit_code == 0, result.output
    assert _last(result)["rejected"] == "2"
    assert "line 4: 1401060 CODE_INVALID" in result.stderr and "line 7: 140106002" in result.stderr, result.stderr
