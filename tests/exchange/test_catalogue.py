"""Issue 14 item 5: the data catalogue (政务数据目录) is generated from the models and the exchange's declarations,
so it cannot drift: a model column or an exchange field without a catalogue entry fails here."""

from __future__ import annotations

import csv
import io

from sqlalchemy import Column, String

from app.db import Base
from flows.exchange import catalogue
from flows.exchange.datasets import ANSWERS, Answer, Field

CORE = ("code", "name", "classification", "classification_code", "provider", "provider_code", "summary", "format",
        "items", "share_type", "share_condition", "share_method", "open_type", "update_cycle", "published", "related")


def test_every_model_column_and_exchange_field_has_an_entry():
    assert catalogue.gaps() == []


def test_a_new_column_without_an_entry_fails():
    table = Base.metadata.tables["benefits"]
    col = Column("new_secret_field", String(8))
    table.append_column(col)
    try:
        assert "benefits.new_secret_field" in catalogue.gaps()
    finally:
        table._columns.remove(col)
    assert catalogue.gaps() == []


def test_a_new_exchange_field_without_an_entry_fails():
    old = ANSWERS["elderly_allowance"]
    ANSWERS["elderly_allowance"] = Answer(old.code, old.name, {**old.fields, "birth_date": Field("birth_date", "d", "x")},
                                          old.minimal, old.answer)
    try:
        assert "exchange:elderly_allowance.birth_date" in catalogue.gaps()
    finally:
        ANSWERS["elderly_allowance"] = old


def test_catalogue_lists_every_produced_dataset_with_core_metadata(client):
    body = client.get("/api/v1/catalogue").json
    codes = {r["code"] for r in body["produced"]}
    assert {"MZ-JZ-001", "MZ-JZ-101", "MZ-JZ-102", "MZ-JZ-103"} <= codes
    for r in body["produced"]:
        assert all(r.get(k) not in (None, "") or k in ("share_condition", "related") for k in CORE), r["code"]
        assert set(r["classification"]) == {"类", "项", "目", "细目"}
        assert r["share_type"] in ("无条件", "有条件", "不予共享")
        assert all({"name", "type", "sensitivity"} <= set(i) for i in r["items"])
    assert {x["resource"] for x in body["references"]} >= {"人口基础信息（户籍）", "残疾人证信息"}
    assert not any(r["name"] == "人口基础信息（户籍）" for r in body["produced"])  # never re-offered
    text = client.get("/api/v1/catalogue", query_string={"format": "csv"}).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "资源代码" and len(rows) == 1 + len(body["produced"]) + len(body["references"])
    page = client.get("/catalogue")
    assert page.status_code == 200 and "政务数据目录" in page.get_data(as_text=True)
