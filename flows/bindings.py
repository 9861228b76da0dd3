"""What binding and unbinding an identity mean for proxy grants and the binding history.

A grant belongs to the proxy *person*: it works only from the account bound to her now
(app.authz.proxy_grants_in_force). Unbinding suspends her grants as a proxy at once (nothing to write: no
account is bound to her); binding the same person again, on any account, restores them, and each principal is
told (an outbox message in the same transaction). Grants where she is the principal are unaffected.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.authz import proxy_grants_in_force
from app.clock import clock_now
from app.db import utcnow
from app.masking import mask_name
from app.models import Account, IdentityBinding, ProxyGrant, Resident
from notifications.outbox import enqueue


def on_bound(session: Session, account: Account, resident: Resident) -> list[ProxyGrant]:
    """Record the binding; point her grants as a proxy at this account; tell each principal of a restored grant.
    Returns the restored grants."""
    binding = IdentityBinding(account_id=account.id, resident_id=resident.id, bound_at=account.bound_at or utcnow())
    session.add(binding)
    session.flush()
    session.execute(update(ProxyGrant).where(ProxyGrant.proxy_resident_id == resident.id,
                                             ProxyGrant.proxy_account_id != account.id)
                    .values(proxy_account_id=account.id))
    restored = [grant for grant, account_id in proxy_grants_in_force(session, proxy_resident_id=resident.id)
                if account_id == account.id]
    for grant in restored:
        enqueue(session, kind="proxy_restored", idempotency_key=f"proxy-grant:{grant.id}:restored:{binding.id}",
                resident_id=grant.resident_id,
                data={"grant_id": grant.id, "proxy_name": mask_name(resident.name), "scopes": list(grant.scopes),
                      "revoke_path": f"/api/v1/proxies/grants/{grant.id}/revoke"})
    return restored


def on_unbound(session: Session, account: Account, resident_id: int) -> int:
    """Close the binding in the history. Returns how many of her grants as a proxy are now suspended."""
    session.execute(update(IdentityBinding).where(IdentityBinding.account_id == account.id,
                                                  IdentityBinding.resident_id == resident_id,
                                                  IdentityBinding.unbound_at.is_(None))
                    .values(unbound_at=utcnow()))
    return session.scalar(select(func.count()).select_from(ProxyGrant).where(
        ProxyGrant.proxy_resident_id == resident_id, ProxyGrant.status == "active",
        ProxyGrant.revoked_at.is_(None), ProxyGrant.expires_at > clock_now()))
