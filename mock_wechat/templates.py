"""The mini-program's subscribe-message templates, read from templates.json (or `templates_path`).

type 2 = one-time (一次性), 3 = long-term (长期, 政务民生). Each keyword is `{key, name, example}`
(+ optional `enum_values` for `enum<n>` keys); `example` values pass value_rules.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

DEFAULT_PATH = Path(__file__).with_name("templates.json")
ONE_TIME, LONG_TERM = 2, 3


@dataclass(frozen=True)
class Template:
    id: str
    kind: str
    title: str
    type: int
    keywords: tuple[dict, ...]

    @property
    def long_term(self) -> bool:
        return self.type == LONG_TERM

    def content(self) -> str:
        return "".join(f"{k['name']}:{{{{{k['key']}.DATA}}}}\n" for k in self.keywords)

    def example(self) -> str:
        return "".join(f"{k['name']}:{k.get('example', '')}\n" for k in self.keywords)

    def as_wechat(self) -> dict:
        return {"priTmplId": self.id, "title": self.title, "content": self.content(),
                "example": self.example(), "type": self.type}


def load_templates(path: str | Path | None = None) -> dict[str, Template]:
    raw = json.loads(Path(path or DEFAULT_PATH).read_text(encoding="utf-8"))
    items = [Template(id=t["id"], kind=t["kind"], title=t["title"], type=int(t["type"]),
                      keywords=tuple(t["keywords"])) for t in raw["templates"]]
    return {t.id: t for t in items}


def get_templates() -> dict[str, Template]:
    return current_app.extensions["mock_wechat_templates"]
