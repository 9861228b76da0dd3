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
    assert got.json == [{"code": "140105", "name": "小店区"}, {"code": "140105001", "name": "坞城街道"},
                        {"code": "140106", "name": None}]
    assert client.get("/api/v1/areas?codes=１４０１０５").status_code == 422
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
