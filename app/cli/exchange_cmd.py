"""`zerotrip exchange …`: partner clients (add, list), keys (add, revoke), the death-webhook secret, the worker
that applies pushed events at once, and `selftest` (signs and sends the worked example of docs/exchange.md)."""

from __future__ import annotations

import json
import signal
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import click

from app.cli.common import EXIT_BAD_INPUT, ready_config, summary
from app.cli.signed import BY as PARAMS_BY
from app.cli.signed import PASSWORD as PARAMS_PASSWORD
from app.cli.signed import run_refusable, signed_in
from app.db import session_scope


@click.group("exchange")
def exchange_group() -> None:
    """The data exchange: partner clients, keys, the worker, a self-test."""


@exchange_group.group("client")
def client_group() -> None:
    """Partner clients (departments)."""


def _text_or_file(value: str) -> str:
    if value.startswith("@"):
        return Path(value[1:]).read_text(encoding="utf-8")
    if value.lstrip().startswith(("{", "-----BEGIN")) or len(value) > 1024:
        return value
    try:
        path = Path(value)
        return path.read_text(encoding="utf-8") if path.is_file() else value
    except OSError:
        return value


@client_group.command("add")
@click.option("--id", "client_id", required=True)
@click.option("--name", required=True, help="the department, e.g. 太原市医疗保障局")
@click.option("--public-key", required=True, help="Ed25519 public key: base64 raw, PEM, or a file holding one")
@click.option("--key-id", default=None, help="key id (default <client>-<random>)")
@click.option("--actions", default="search", show_default=True, help="comma-separated: push, search")
@click.option("--purposes", default="{}", help='JSON (or @file): {"code": {"legal_basis": …, "text": …, '
              '"delay_days": 0, "fields": {"<dataset>": ["<field>", …]}}} (datasets: GET /api/v1/catalogue)')
@click.option("--pia", "pia_ref", required=True, help="the PIA reference (个人信息保护影响评估, PIPL art. 55–56)")
@click.option("--agreement", "agreement_ref", required=True, help="the data-sharing agreement's reference")
@click.option("--agreement-expires", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--contact", required=True)
@click.option("--per-minute", default=600, show_default=True, type=click.IntRange(1))
@click.option("--per-day", default=200_000, show_default=True, type=click.IntRange(1))
@click.option("--death-source", default=None,
              type=click.Choice(["public_security", "health", "funeral", "civil_affairs"]),
              help="the source this department reports deaths as")
@click.option("--webhook-secret", default=None, help="HMAC secret for the OpenCRVS-style death webhook")
def client_add(client_id, name, public_key, key_id, actions, purposes, pia_ref, agreement_ref, agreement_expires,
               contact, per_minute, per_day, death_source, webhook_secret) -> None:
    """Register a department (fails without a PIA reference)."""
    from flows.exchange import clients, webhook

    cfg = ready_config()
    try:
        parsed = json.loads(_text_or_file(purposes))
        if not isinstance(parsed, dict):
            raise ValueError("purposes must be a JSON object")
        with session_scope(cfg) as session:
            client = clients.register(
                session, client_id=client_id, name=name, public_key=_text_or_file(public_key),
                actions=[a.strip() for a in actions.split(",") if a.strip()], purposes=parsed, pia_ref=pia_ref,
                agreement_ref=agreement_ref, agreement_expires=agreement_expires.date(), contact=contact,
                per_minute=per_minute, per_day=per_day, death_source=death_source, key_id=key_id)
            if webhook_secret:
                webhook.set_secret(session, cfg, client, webhook_secret)
            session.flush()
            keys = [k.id for k in session.new if hasattr(k, "public_key")] or [key_id]
    except (ValueError, clients.BadRegistration) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    summary(client=client_id, key=keys[0], purposes=len(parsed))


@client_group.command("list")
def client_list() -> None:
    """Registered clients, their keys and agreement expiry."""
    from flows.exchange import clients

    cfg = ready_config()
    with session_scope(cfg) as session:
        rows = clients.clients(session)
        keys_of = clients.keys_of(session, [c.id for c in rows])
        for c in rows:
            live = ",".join(k.id for k in keys_of[c.id] if k.revoked_at is None) or "-"
            click.echo(f"{c.id}\t{c.name}\t{','.join(c.actions)}\tagreement_expires={c.agreement_expires}\tkeys={live}")
    summary(clients=len(rows))


@exchange_group.group("key")
def key_group() -> None:
    """Client keys: add a second key for a changeover, revoke at once."""


@key_group.command("add")
@click.option("--client", "client_id", required=True)
@click.option("--public-key", required=True)
@click.option("--key-id", default=None)
def key_add(client_id, public_key, key_id) -> None:
    """Add a key (the old one stays valid until revoked)."""
    from app.models import ExchangeClient
    from flows.exchange import clients

    cfg = ready_config()
    try:
        with session_scope(cfg) as session:
            if session.get(ExchangeClient, client_id) is None:
                raise clients.BadRegistration(f"no client {client_id}")
            key = clients.add_key(session, client_id, _text_or_file(public_key), key_id)
            kid = key.id
    except clients.BadRegistration as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    summary(client=client_id, key=kid)


@key_group.command("revoke")
@click.argument("key_id")
def key_revoke(key_id) -> None:
    """Revoke a key at once."""
    from flows.exchange import clients

    cfg = ready_config()
    with session_scope(cfg) as session:
        done = clients.revoke_key(session, key_id)
    summary(key=key_id, revoked=int(done))


@exchange_group.command("worker")
@click.option("--once", is_flag=True, help="apply what is pending and exit")
@click.option("--poll", default=0.2, show_default=True, type=float, help="seconds to sleep when idle")
def worker(once: bool, poll: float) -> None:
    """Apply accepted pushed events at once (benefits stopped, the family's message queued), and publish the
    bureau's changes to subscribed departments (queued for the dispatcher's callback channel)."""
    from app.db import make_engine
    from flows.exchange import subscriptions
    from flows.exchange import worker as flow
    from flows.imports.batch import local_today

    cfg = ready_config()
    engine = make_engine(cfg.database_url)
    published = []

    def publish() -> int:  # subscribed departments told of the changes (flows.exchange.subscriptions)
        with session_scope(cfg) as session:
            n = subscriptions.publish(session, cfg, local_today(cfg))
        published.append(n)
        return n

    if once:
        total, n = 0, 1
        while n:
            n = flow.run_once(engine, local_today(cfg))
            total += n
        publish()
        summary(applied=total, notifications_queued=sum(published))
        return
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    total = flow.run(engine, lambda: local_today(cfg), lambda: bool(stopping), poll,
                     lambda t: click.echo(f"applied {t}", err=True), also=publish)
    summary(applied=total, notifications_queued=sum(published))


EXAMPLE_ID = "140105194611200025"  # synthetic (valid check digit), the worked example of docs/exchange.md


def example_search(client_id: str, purpose: str, dataset: str, message_id: str) -> dict:
    return {"header": {"message_id": message_id, "message_ts": "2026-12-04T08:00:00Z", "action": "search",
                       "sender_id": client_id, "receiver_id": "taiyuan-civil-affairs", "total_count": 1},
            "message": {"transaction_id": "T-0001", "search_criteria": {
                "reg_type": dataset, "query_type": "idtype-value",
                "authorize": {"purpose": {"code": purpose, "ref": "CASE-0001"}}},
                "search_request": [{"reference_id": "R-1", "query": {"type": "CN-ID", "value": EXAMPLE_ID}}]}}


@exchange_group.command("selftest")
@click.option("--client", "client_id", required=True)
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="the client's Ed25519 private key (PEM, PKCS#8)")
@click.option("--key-id", default=None, help="default: the client's newest valid key")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True)
def selftest(client_id, key_file, key_id, url) -> None:
    """Sign and send the worked example (a sync search) and check the answer."""
    import requests
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from sqlalchemy import select

    from app.models import ExchangeClient, ExchangeKey
    from flows.exchange import signing

    cfg = ready_config()
    with session_scope(cfg) as session:
        client = session.get(ExchangeClient, client_id)
        if client is None:
            click.echo(f"error: no client {client_id}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        keys = session.scalars(select(ExchangeKey).where(ExchangeKey.client_id == client_id,
                                                         ExchangeKey.revoked_at.is_(None))
                               .order_by(ExchangeKey.created_at.desc())).all()
        purpose, spec = next(iter(client.purposes.items()), (None, {}))
        from flows.exchange.datasets import ANSWERS

        dataset = next(iter(spec.get("fields") or {}), None) or next(iter(ANSWERS))
    kid = key_id or (keys[0].id if keys else None)
    if kid is None or purpose is None:
        click.echo("error: the client needs a valid key and a purpose", err=True)
        sys.exit(EXIT_BAD_INPUT)
    private = load_pem_private_key(Path(key_file).read_bytes(), password=None)
    message_id = f"selftest-{uuid.uuid4().hex}"
    body = json.dumps(example_search(client_id, purpose, dataset, message_id), ensure_ascii=False).encode()
    path = "/exchange/v1/registry/sync/search"
    headers = signing.signed_headers(client_id, kid, private, "POST", path, int(time.time()), message_id, body)
    started = time.perf_counter()
    resp = requests.post(url.rstrip("/") + path, data=body, headers=headers, timeout=30)
    ms = (time.perf_counter() - started) * 1000
    ok = resp.status_code == 200 and resp.headers.get("X-ZT-Request-Hash") == signing.body_hash(body)
    if not ok:
        click.echo(f"answer: {resp.status_code} {resp.text[:300]}", err=True)
    summary(status=resp.status_code, ok=int(ok), ms=round(ms, 1), key=kid, date=date.today().isoformat())
    if not ok:
        sys.exit(1)


@exchange_group.group("death-correction")
def correction_group() -> None:
    """Staff correction of a wrongly reported death (maker-checker: flows.approvals): propose with a reason, a
    second staff member (an approver) approves."""


@correction_group.command("propose")
@click.option("--resident-id", required=True, type=int)
@click.option("--reason", required=True)
@PARAMS_BY
@PARAMS_PASSWORD
def correction_propose(resident_id, reason, by, password) -> None:
    """Propose that a recorded death is wrong (the benefits resume once a second staff member approves)."""
    from flows.exchange import corrections

    def work(session):
        staff = signed_in(session, by, password)
        return corrections.propose(session, resident_id=resident_id, reason=reason, maker=staff).id

    summary(approval=run_refusable(work), state="pending")


@correction_group.command("approve")
@click.argument("approval_id")
@PARAMS_BY
@PARAMS_PASSWORD
def correction_approve(approval_id, by, password) -> None:
    """Approve a proposed correction (another staff member, an approver); the same as `zerotrip approvals approve`."""
    from flows import approvals
    from flows.exchange import corrections

    def work(session):
        staff = signed_in(session, by, password)
        approval = approvals.get(session, approval_id)
        if approval.kind != corrections.KIND:
            from app.errors import NotFound

            raise NotFound("No such death correction.")
        approvals.approve(session, approval, staff)

    run_refusable(work)
    summary(approval=approval_id, state="approved")


from app.cli.exchange_subs_cmd import register as _register_subscriptions  # noqa: E402

_register_subscriptions(exchange_group)
