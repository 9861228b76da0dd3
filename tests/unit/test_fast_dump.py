"""FastDumpSchema writes exactly what marshmallow's own `Schema.dump` writes, or lets marshmallow do it."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta, timezone

import marshmallow as ma
import pytest

from app.api.applications import ApplicationSchema
from app.api.fast_dump import FastDumpSchema, compile_schema


def _field(i: int) -> dict:
    return {"field": f"f{i}", "label": "姓名", "value": "李秀英" if i % 2 else "", "source": "population_registry",
            "source_name": "公安人口库", "source_date": None if i % 3 else "2026-11-25"}


def _application(**over) -> dict:
    out = {
        "id": "a" * 32, "program": "elderly_allowance", "program_name": "高龄津贴", "state": "approved",
        "origin": "proactive", "as_of": date(2026, 12, 4), "created_at": datetime(2026, 12, 4, 1, 2, 3, 456789),
        "updated_at": datetime(2026, 12, 4, 1, 2, 3), "confirmed_at": datetime(2026, 12, 4, 9, 0, tzinfo=UTC),
        "decided_at": None, "decline_reason": None, "monthly_amount": "50.00", "start_month": "2026-12",
        "fields": [_field(i) for i in range(9)], "reasons": ["您于2026年11月20日年满80周岁", "户籍在本市"],
        "actions": [], "confirmed_by_proxy": "李*英",
        "benefit": {"id": "b" * 32, "program": "elderly_allowance", "program_name": "高龄津贴", "tier": "80-89",
                    "monthly_amount": "50.00", "start_month": "2026-12", "end_month": None, "state": "active"},
        "trace": [{"kind": "decision", "code": "age", "passed": True, "text": "年满80周岁", "source_name": "公安人口库",
                   "source_date": "2026-11-25", "effective_month": None},
                  {"kind": "tier_raised", "code": "age", "passed": False, "text": "升档", "source_name": "",
                   "source_date": None, "effective_month": "2027-01"}],
    }
    out.update(over)
    return out


CASES = [
    _application(),
    _application(benefit=None, trace=[], fields=[], confirmed_by_proxy=None),
    _application(decided_at=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))),  # aware, not UTC
    _application(id=12345, state=b"proposed", monthly_amount=50),  # not yet strings: str() / decode like marshmallow
    {k: v for k, v in _application().items() if k not in ("benefit", "reasons", "decline_reason")},  # keys absent
    _application(fields=[{k: v for k, v in _field(1).items() if k != "source_date"}, None],  # absent in a nested one
                 benefit=OrderedDict(_application()["benefit"]), extra="not in the schema"),  # a dict subclass
]


@pytest.mark.parametrize("payload", CASES)
def test_same_output_as_marshmallow(payload):
    fast, reference = ApplicationSchema(), ApplicationSchema()
    assert compile_schema(fast) is not None, "ApplicationSchema should take the fast path"
    assert fast.dump(payload) == ma.Schema.dump(reference, payload)
    assert ApplicationSchema(many=True).dump([payload, payload]) == ma.Schema.dump(
        ApplicationSchema(many=True), [payload, payload])


def test_non_dict_objects_and_unmirrored_schemas_go_through_marshmallow():
    class Obj:
        id, program, state = "x", "p", "proposed"

    assert ApplicationSchema().dump(Obj()) == ma.Schema.dump(ApplicationSchema(), Obj())

    class Hooked(FastDumpSchema):
        a = ma.fields.String()

        @ma.post_dump
        def shout(self, data, **kwargs):
            return {k: v.upper() for k, v in data.items()}

    class Renamed(FastDumpSchema):
        a = ma.fields.String(data_key="b")

    class Defaulted(FastDumpSchema):
        a = ma.fields.String(dump_default="d")

    assert compile_schema(Hooked()) is None and Hooked().dump({"a": "x"}) == {"a": "X"}
    assert compile_schema(Renamed()) is None and Renamed().dump({"a": "x"}) == {"b": "x"}
    assert compile_schema(Defaulted()) is None and Defaulted().dump({}) == {"a": "d"}
