"""The gated monthly roll (issue 12 item 8): closing a roll writes no bank file; a supervisor other than the one
who closed it reviews the anomaly report and signs it off (who, when, note) through the maker-checker mechanism
(`flows.approvals`, kind `payroll_signoff`, checked by a supervisor); only then `release` writes the bank files.

    close  (maker: the closer, `--by USER` or "cli")  →  approval pending
    sign-off (checker: a supervisor ≠ the closer)     →  approval approved (note kept in its payload)
    release (`--by USER`)                              →  bank CSV files, audited

`simulate` signs off as a simulated supervisor (`SIMULATED_SUPERVISOR`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import record
from app.authz import may_sign_off_roll
from app.crypto import FieldCipher
from app.db import utcnow
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.models import Approval, PayrollRun, StaffMember
from flows import approvals, payroll

KIND = "payroll_signoff"
SIMULATED_SUPERVISOR = "simulation:supervisor"


def subject(month: str) -> str:
    return f"payroll:{month}"


def _apply(session: Session, approval: Approval, checker: StaffMember) -> None:
    """Nothing changes in the roll itself: the approved approval is the sign-off (who, when)."""


approvals.register(approvals.Kind(KIND, "supervisor", _apply,
                                  lambda a: f"发放名册 {a.payload.get('month')} 异常报告签核", direct=False))


def run_of(session: Session, month: str) -> PayrollRun:
    run = session.scalar(select(PayrollRun).where(PayrollRun.month == month))
    if run is None or run.state != "closed":
        raise NotFound(f"The roll of {month} is not closed.")
    return run


def signoff_of(session: Session, month: str) -> Approval | None:
    return session.scalar(select(Approval).where(Approval.kind == KIND, Approval.subject_ref == subject(month))
                          .order_by(Approval.created_at.desc()))


def after_close(session: Session, run: PayrollRun, closer: str) -> Approval:
    """Ask for the sign-off of a closed roll (idempotent: the pending or approved one stands). Asked again after a
    withdrawal, the request keeps the first closer as its maker: whoever closed the roll never signs it off,
    however it is asked again."""
    found = signoff_of(session, run.month)
    if found is not None and found.state in ("pending", "approved"):
        return found
    if found is not None:
        closer = found.maker
    anomalies = {k: v.get("count", 0) for k, v in (run.anomalies or {}).items()}
    try:
        return approvals.propose(session, KIND, subject(run.month),
                                 {"month": run.month, "anomalies": anomalies, "closed_by": closer}, closer)
    except Conflict as exc:  # a parallel close asked first: its request stands
        if exc.error_code != "approval_pending":
            raise
        return signoff_of(session, run.month)


def sign_off(session: Session, month: str, supervisor: StaffMember, note: str) -> Approval:
    """A supervisor (not the closer) signs the anomaly report off, with a note."""
    if not may_sign_off_roll(supervisor.role):
        raise Forbidden("A roll is signed off by a supervisor.", error_code="approval_role")
    if not (note or "").strip():
        raise Unprocessable("Say what you checked in the anomaly report (the note).", error_code="note_missing")
    run_of(session, month)
    approval = signoff_of(session, month)
    if approval is None:
        raise NotFound(f"No sign-off is asked for the roll of {month}.")
    if approval.maker == approvals.actor_of(supervisor):
        raise Forbidden("You closed this roll; a different supervisor must sign it off.",
                        error_code="self_approval")
    approvals.approve(session, approval, supervisor, conflict_code="signoff_not_pending", via_owner=True)
    approval.payload = {**approval.payload, "note": note[:500]}
    record(session, actor=approvals.actor_of(supervisor), action="payroll.sign_off", object_ref=subject(month),
           details={"note": note[:500], "anomalies": approval.payload.get("anomalies")})
    return approval


def sign_off_simulated(session: Session, month: str) -> None:
    """`simulate`: the roll is signed off by a simulated supervisor (no person, no password)."""
    approval = signoff_of(session, month)
    if approval is not None and approval.state == "pending":
        approval.state, approval.checker, approval.decided_at = "approved", SIMULATED_SUPERVISOR, utcnow()
        approval.payload = {**approval.payload, "note": "simulated"}


def release(session: Session, month: str, by: str, cipher: FieldCipher, out_dir: Path,
            again: bool = False) -> list[Path]:
    """Write the bank files of a closed roll, only after its sign-off (409 `roll_not_signed_off` before). Once:
    a second release is 409 `roll_released` (a second bank file sent is a second payment), unless `again` —
    the same files written once more (a file lost before it reached the bank), audited as such."""
    run = run_of(session, month)
    approval = signoff_of(session, month)
    if approval is None or approval.state != "approved":
        raise Conflict("The anomaly report of this roll has not been signed off by a supervisor yet; "
                       "nothing is released.", error_code="roll_not_signed_off")
    earlier = (approval.payload or {}).get("released")  # the sign-off's row keeps who released it, and when
    if earlier and not again:
        raise Conflict(f"The roll of {month} was released already ({who(session, earlier['by'])}, "
                       f"{earlier['at']} UTC); sending its bank files twice pays twice. To write the same files "
                       "once more (a file lost before it reached the bank), release it again with --again.",
                       error_code="roll_released")
    files = payroll.write_bank_files(session, run, cipher, out_dir)
    if not earlier:
        approval.payload = {**(approval.payload or {}),
                            "released": {"by": by, "at": f"{utcnow():%Y-%m-%d %H:%M}"}}
    record(session, actor=by, action="payroll.release_again" if earlier else "payroll.release",
           object_ref=subject(month), details={"files": len(files), "signed_off_by": approval.checker})
    return files


def status(session: Session, month: str) -> dict:
    run = session.scalar(select(PayrollRun).where(PayrollRun.month == month))
    approval = signoff_of(session, month)
    return {"month": month, "state": run.state if run else "none",
            "anomalies": {k: v.get("count", 0) for k, v in ((run.anomalies if run else None) or {}).items()},
            "closed_by": approval.maker if approval else None,
            "closed_by_name": who(session, approval.maker) if approval else None,
            "signoff": approval.state if approval else "none",
            "signed_off_by": approval.checker if approval else None,
            "signed_off_by_name": who(session, approval.checker) if approval and approval.checker else None,
            "signed_off_at": approval.decided_at if approval else None,
            "note": (approval.payload or {}).get("note") if approval else None}


def who(session: Session, actor: str | None) -> str | None:
    """An actor of the gate in words: a staff member's name (or username), else what ran it."""
    if not actor:
        return None
    kind, _, ident = actor.partition(":")
    if kind == "staff":
        staff = session.get(StaffMember, ident)
        return (staff.display_name or staff.username) if staff is not None else "工作人员"
    return {"cli": "命令行操作", "simulation": "模拟运行"}.get(kind, actor)
