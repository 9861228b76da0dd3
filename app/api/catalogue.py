"""The data catalogue (政务数据目录): `GET /api/v1/catalogue` (JSON, or CSV with `?format=csv`) and a readable
page at `/catalogue` — generated from the models and the exchange's allowlists (flows.exchange.catalogue)."""

from __future__ import annotations

import html

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from app.db import SessionLocal
from app.models import ExchangeClient
from flows.exchange import catalogue as flow

blp = Blueprint("catalogue", __name__, url_prefix="", description="The data catalogue (政务数据目录)")


class CatalogueArgs(ma.Schema):
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(("json", "csv")))


class CatalogueSchema(ma.Schema):
    provider = ma.fields.Dict(required=True)
    produced = ma.fields.List(ma.fields.Dict(), required=True, metadata={
        "description": "resources with core metadata: code, name, classification {类,项,目,细目}, "
                       "classification_code, provider, provider_code, summary, format, items [{field, name, type, "
                       "sensitivity}], share_type, share_condition, share_method, open_type, update_cycle, "
                       "published, related; exchange resources also `allowed` (registered purposes)"})
    references = ma.fields.List(ma.fields.Dict(), required=True, metadata={
        "description": "copies of other departments' data, by source (never re-offered)"})


def _catalogue() -> dict:
    return flow.build(SessionLocal().scalars(select(ExchangeClient).order_by(ExchangeClient.id)).all())


@blp.route("/api/v1/catalogue")
class Catalogue(MethodView):
    @blp.arguments(CatalogueArgs, location="query")
    @blp.doc(responses={"200": {"description": "the catalogue (JSON, or CSV with ?format=csv)", "content": {
        "application/json": {"schema": CatalogueSchema}, "text/csv": {"schema": {"type": "string"}}}}})
    def get(self, args):
        """The datasets the bureau produces with their core metadata (分类 类/项/目/细目, 名称, 代码, 提供方, 摘要,
        格式, 数据项, 共享类型/条件/方式, 开放属性, 更新周期, 发布日期, 关联资源代码); other departments' data as
        references to their source."""
        catalogue = _catalogue()
        if args["format"] == "csv":
            return Response("\ufeff" + flow.to_csv(catalogue), mimetype="text/csv",
                            headers={"Content-Disposition": "attachment; filename=catalogue.csv"})
        return CatalogueSchema().dump(catalogue)


@blp.route("/catalogue")
class CataloguePage(MethodView):
    @blp.doc(responses={"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}})
    def get(self):
        """The catalogue as a readable page."""
        c = _catalogue()
        e = html.escape
        rows = []
        for r in c["produced"]:
            items = "".join(f"<li>{e(i['name'])}（{e(i['type'])}，{e(i['sensitivity'])}）</li>" for i in r["items"])
            rows.append(f"<section><h2>{e(r['name'])} <small>{e(r['code'])}</small></h2>"
                        f"<p>{e(r['summary'])}</p><dl><dt>分类</dt><dd>{e('/'.join(r['classification'].values()))}</dd>"
                        f"<dt>共享类型</dt><dd>{e(r['share_type'])} {e(r['share_condition'])}</dd>"
                        f"<dt>共享方式</dt><dd>{e(r['share_method'])}</dd><dt>开放属性</dt><dd>{e(r['open_type'])}</dd>"
                        f"<dt>更新周期</dt><dd>{e(r['update_cycle'])}</dd></dl><ul>{items}</ul></section>")
        refs = "".join(f"<li>{e(r['resource'])}：{e(r['source'])}（{e(r['note'])}）</li>" for r in c["references"])
        page = (f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>政务数据目录</title></head>"
                f"<body><main><h1>政务数据目录 · {e(c['provider']['name'])}</h1>{''.join(rows)}"
                f"<h2>引用的他部门数据</h2><ul>{refs}</ul><p><a href=\"/api/v1/catalogue?format=csv\">下载 CSV</a></p>"
                f"</main></body></html>")
        return Response(page, mimetype="text/html")
