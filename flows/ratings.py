"""Service ratings (好差评): after a case ends, the resident (or her proxy) rates the service from 1 to 5.

Rules (plain Python; the HTTP layer authenticates and authorizes):
- only after the case has ended: the application is approved, rejected or declined;
- one rating per application per rater (a second one is a 409, the first stays as given);
- level 1–5: 1 非常不满意, 2 不满意, 3 基本满意, 4 满意, 5 非常满意; 1–2 are "dissatisfied" and open a
  `rating_follow_up` staff task in the resident's district/street/community, due at the end of the 15th working
  day after the rating (工作日 from `flows.workdays`, i.e. the `chinese_calendar` library with a weekend
  fallback for years it does not know yet).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict
from app.models import Application, Resident, ServiceRating, StaffTask
from flows import workdays
from flows.conflicts import is_unique_violation
from flows.dates import end_of_day, today_shanghai

ENDED_STATES = ("approved", "rejected", "declined")
LEVELS = {1: "非常不满意", 2: "不满意", 3: "基本满意", 4: "满意", 5: "非常满意"}
DISSATISFIED = (1, 2)
FOLLOW_UP_WORKING_DAYS = 15
FOLLOW_UP_KIND = "rating_follow_up"


def follow_up_due(rated_on: date) -> datetime:
    """End of the 15th working day after `rated_on`, Shanghai time, as naive UTC (how due_at is stored)."""
    return end_of_day(workdays.add_working_days(rated_on, FOLLOW_UP_WORKING_DAYS))


def existing(session: Session, application_id: str, rater_account_id: str) -> ServiceRating | None:
    return session.execute(select(ServiceRating).where(ServiceRating.application_id == application_id,
                                                       ServiceRating.rater_account_id == rater_account_id)).scalar()


def rate(session: Session, application: Application, rater_account_id: str, level: int, comment: str | None,
         today: date | None = None) -> ServiceRating:
    if level not in LEVELS:
        raise ValueError("level must be 1 to 5")
    if application.state not in ENDED_STATES:
        raise Conflict("A service can be rated only after the case has ended.", error_code="case_not_ended")
    if existing(session, application.id, rater_account_id) is not None:
        raise Conflict("You have already rated this case.", error_code="rating_exists")
    comment = (comment or "").strip() or None
    rating = ServiceRating(application_id=application.id, resident_id=application.resident_id,
                           rater_account_id=rater_account_id, level=level, comment=comment,
                           program=application.program, application_state=application.state)
    try:
        with session.begin_nested():
            session.add(rating)
            session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc, "service_ratings", "application_id", "rater_account_id"):
            raise
        raise Conflict("You have already rated this case.", error_code="rating_exists") from None
    if level in DISSATISFIED:
        rating.follow_up_task_id = _open_follow_up(session, application, rating, today or today_shanghai()).id
    return rating


def _open_follow_up(session: Session, application: Application, rating: ServiceRating, today: date) -> StaffTask:
    resident = session.get(Resident, application.resident_id)
    note = workdays.calendar_note(today, workdays.add_working_days(today, FOLLOW_UP_WORKING_DAYS))
    details = {"program": application.program, "level": rating.level, "level_text": LEVELS[rating.level],
               "comment": (rating.comment or "")[:500], "rating_id": rating.id,
               "application_state": application.state, "working_days": FOLLOW_UP_WORKING_DAYS}
    if note:
        details["calendar_note"] = note
    task = StaffTask(kind=FOLLOW_UP_KIND, resident_id=resident.id, application_id=application.id,
                     account_id=rating.rater_account_id, district_code=resident.district_code,
                     street_code=resident.street_code, community_code=resident.community_code,
                     dedupe_key=f"rating:{rating.id}", details=details, due_at=follow_up_due(today),
                     created_at=utcnow())
    session.add(task)
    session.flush()
    return task
