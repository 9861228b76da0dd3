"""Unguessable public identifiers (128 random bits, hex)."""

import secrets


def new_id() -> str:
    return secrets.token_hex(16)
