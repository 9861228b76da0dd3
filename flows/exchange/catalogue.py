"""The data catalogue (政务数据目录), generated from the models (table columns and types), the exchange's answer
declarations and the registered clients' allowlists, with the entries of `catalogue_entries`. `gaps()` names
every model column and exchange field without an entry (the catalogue test fails on any)."""

from __future__ import annotations

import csv
import io

from app.db import Base
from flows.exchange import catalogue_entries as E
from flows.exchange.datasets import ANSWERS

CSV_COLUMNS = ("资源代码", "资源名称", "分类（类/项/目/细目）", "分类代码", "提供方", "提供方代码", "摘要", "格式", "共享类型",
               "共享条件", "共享方式", "开放属性", "更新周期", "发布日期", "关联资源代码", "数据项（名称:类型:敏感级别）", "来源")


def _tables():
    import app.models  # noqa: F401  (every model registered on Base.metadata)

    return {t.name: t for t in Base.metadata.sorted_tables}


def gaps() -> list[str]:
    """'table.column' for every model column, and 'exchange:dataset.field' for every answer field, with no entry."""
    missing = []
    for name, table in _tables().items():
        if name in E.PRODUCED:
            listed = set(E.PRODUCED[name]["items"])
        elif name in E.REFERENCES:
            listed = set(E.REFERENCES[name][2].split())
        else:
            listed = set(E.INTERNAL.get(name, "").split())
        missing += [f"{name}.{c.name}" for c in table.columns if c.name not in listed]
    for code, dataset in ANSWERS.items():
        if not dataset.catalogue[0]:  # its 目录 entry is declared with the answer (Answer.catalogue)
            missing.append(f"exchange:{code}")
        missing += [f"exchange:{code}.{f}" for f in dataset.fields if f not in E.EXCHANGE_ITEMS]
    return missing


def _type(column) -> str:
    text = str(column.type).upper()
    for key, zh in (("CHAR", "字符"), ("TEXT", "字符"), ("INT", "数值"), ("DATETIME", "日期时间"), ("TIMESTAMP", "日期时间"),
                    ("DATE", "日期"), ("BOOL", "布尔"), ("JSON", "结构化文本"), ("BLOB", "二进制（密文）"),
                    ("BYTEA", "二进制（密文）")):
        if key in text:
            return zh
    return "字符"


def _purposes(clients, dataset: str) -> list[dict]:
    out = []
    for c in clients:
        for code, spec in (c.purposes or {}).items():
            fields = (spec.get("fields") or {}).get(dataset)
            if fields:
                out.append({"department": c.name, "purpose": code, "legal_basis": spec.get("legal_basis"),
                            "fields": sorted(fields)})
    return out


def build(clients=()) -> dict:
    tables = _tables()
    provider = E.PROVIDER
    produced = []
    for name, entry in E.PRODUCED.items():
        table = tables[name]
        produced.append({
            "code": entry["code"], "name": entry["name"], "classification": dict(zip(
                ("类", "项", "目", "细目"), entry["classification"], strict=True)),
            "classification_code": entry["class_code"], "provider": provider["name"], "provider_code": provider["code"],
            "summary": entry["summary"], "format": "数据库/接口（JSON）", "share_type": entry["share"],
            "share_condition": entry["condition"], "share_method": entry["method"], "open_type": entry["open"],
            "update_cycle": entry["cycle"], "published": E.PUBLISHED, "related": list(entry["related"]),
            "items": [{"field": c.name, "name": entry["items"][c.name][0], "type": _type(c),
                       "sensitivity": entry["items"][c.name][1]} for c in table.columns if c.name in entry["items"]],
        })
    for code, dataset in ANSWERS.items():
        res_code, class_code, share, cycle, source = dataset.catalogue
        produced.append({
            "code": res_code, "name": dataset.name, "classification": {"类": "部门信息资源", "项": "民政",
                                                                       "目": "数源接口", "细目": code},
            "classification_code": class_code, "provider": provider["name"], "provider_code": provider["code"],
            "summary": f"按用途答复的最小必要信息（数源接口，数据集 {code}）。", "format": "接口（JSON）",
            "share_type": share, "share_condition": "登记的部门、用途及法律依据、字段白名单、协议有效期内、个人信息保护影响评估已备案",
            "share_method": "接口（/exchange/v1/registry/sync/search，Ed25519 签名）", "open_type": "不予开放",
            "update_cycle": cycle, "published": E.PUBLISHED, "related": [E.PRODUCED[source]["code"]],
            "items": [{"field": f, "name": E.EXCHANGE_ITEMS[f][0], "type": E.EXCHANGE_ITEMS[f][1],
                       "sensitivity": E.EXCHANGE_ITEMS[f][2]} for f in dataset.fields],
            "allowed": _purposes(clients, code),
        })
    references = [{"table": name, "source": src, "resource": res,
                   "note": "他部门数据副本：以来源部门目录为准，本机关不再提供"} for name, (src, res, _c) in E.REFERENCES.items()]
    return {"provider": provider, "produced": produced, "references": references}


def to_csv(catalogue: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in catalogue["produced"]:
        writer.writerow([r["code"], r["name"], "/".join(r["classification"].values()), r["classification_code"],
                         r["provider"], r["provider_code"], r["summary"], r["format"], r["share_type"],
                         r["share_condition"], r["share_method"], r["open_type"], r["update_cycle"], r["published"],
                         ";".join(r["related"]),
                         ";".join(f"{i['name']}:{i['type']}:{i['sensitivity']}" for i in r["items"]), "本机关"])
    for r in catalogue["references"]:
        writer.writerow(["", r["resource"], "", "", r["source"], "", r["note"], "", "", "", "", "", "", "", "", "",
                         "引用"])
    return out.getvalue()
