"""`zerotrip exchange callback set|show`, `subscribe`, `subscriptions`, `unsubscribe`, `deliveries`: subscriptions of
the data exchange run by the bureau's operator (the same use cases as /exchange/v1/registry/subscribe)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from app.cli.common import EXIT_BAD_INPUT, ready_config, summary
from app.db import session_scope
from app.errors import DomainError


def _fail(exc: Exception) -> None:
    click.echo(f"error: {getattr(exc, 'error_code', '') or 'invalid'}: {exc}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def register(group: click.Group) -> None:
    @group.group("callback")
    def callback_group() -> None:
        """Where a client receives notifies and async answers (https; SSRF-checked)."""

    @callback_group.command("set")
    @click.option("--client", "client_id", required=True)
    @click.option("--url", required=True, help="https base URL; /registry/notify and /registry/on-search appended")
    def callback_set(client_id: str, url: str) -> None:
        """Register the client's callback base URL (refused: http, loopback, private, link-local — unless the host
        or address is in ZEROTRIP_EXCHANGE_CALLBACK_ALLOW)."""
        from flows.exchange import subscriptions

        cfg = ready_config()
        try:
            with session_scope(cfg) as session:
                subscriptions.set_callback(session, cfg, client_id, url)
        except DomainError as exc:
            _fail(exc)
        summary(client=client_id, callback="set")

    @group.command("subscribe")
    @click.option("--client", "client_id", required=True)
    @click.option("--scope", type=click.Choice(["people", "program"]), required=True)
    @click.option("--program", default=None, help="for scope=program (the purpose must list it)")
    @click.option("--events", default="", help="comma-separated (default: all the program publishes)")
    @click.option("--purpose", required=True)
    @click.option("--ref", required=True, help="the case at the subscribing department")
    @click.option("--expires", "expires_on", required=True, help="YYYY-MM-DD (≤ 366 days, ≤ the agreement)")
    @click.option("--people", "people_file", default=None, type=click.Path(exists=True, dir_okay=False),
                  help="CSV with reference_id,id_number[,purpose,ref,expires_on] (scope=people)")
    def subscribe(client_id, scope, program, events, purpose, ref, expires_on, people_file) -> None:
        """Subscribe a client to named people or to a whole program."""
        from app.models import ExchangeClient
        from flows.exchange import subscriptions
        from flows.imports.batch import local_today

        cfg = ready_config()
        people = None
        if people_file:
            with Path(people_file).open(encoding="utf-8-sig", newline="") as fh:
                people = [{k: v for k, v in row.items() if v} for row in csv.DictReader(fh)]
        try:
            with session_scope(cfg) as session:
                client = session.get(ExchangeClient, client_id)
                if client is None:
                    raise DomainError(f"no client {client_id}", error_code="client_unknown")
                sub = subscriptions.subscribe(
                    session, cfg, client, scope=scope, purpose=purpose, ref=ref, expires_on=expires_on,
                    today=local_today(cfg), program=program, people=people,
                    events=[e.strip() for e in events.split(",") if e.strip()] or None)
                sub_id, chosen = sub.id, ",".join(sub.events)
        except DomainError as exc:
            _fail(exc)
        summary(subscription=sub_id, scope=scope, events=chosen, people=len(people or []))

    @group.command("subscriptions")
    @click.option("--client", "client_id", required=True)
    def subscriptions_list(client_id: str) -> None:
        """A client's subscriptions (JSON lines)."""
        from flows.exchange import subscriptions

        cfg = ready_config()
        with session_scope(cfg) as session:
            rows = subscriptions.listing(session, client_id)
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        summary(subscriptions=len(rows))

    @group.command("unsubscribe")
    @click.option("--client", "client_id", required=True)
    @click.argument("subscription_id")
    def unsubscribe(client_id: str, subscription_id: str) -> None:
        """End a subscription (nothing more is published to it)."""
        from flows.exchange import subscriptions

        cfg = ready_config()
        try:
            with session_scope(cfg) as session:
                ended = subscriptions.cancel(session, client_id, subscription_id)
        except DomainError as exc:
            _fail(exc)
        summary(subscription=subscription_id, ended=int(ended))

    @group.command("deliveries")
    @click.option("--client", "client_id", default=None)
    @click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
    def deliveries(client_id, limit) -> None:
        """The receipt log: each callback's state, attempts, last error and the receiver's acknowledgement."""
        from flows.exchange import subscriptions

        cfg = ready_config()
        with session_scope(cfg) as session:
            rows = subscriptions.deliveries(session, client_id, limit)
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        summary(deliveries=len(rows))
