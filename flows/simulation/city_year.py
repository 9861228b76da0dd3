"""A simulated year: a synthetic city lives day by day and the real scans, lifecycle jobs, citizens' answers,
staff reviews, home-help visits and monthly rolls run on it; at the end, the KPIs.

- The city comes from flows.synthetic_city (same generator and bulk writer as `zerotrip seed`), dated the day
  before the start. Before day 1 ("warm-up") everyone already eligible is proposed and confirmed, so the year's
  figures are about people who become eligible during it. About 6% of residents hold a disability certificate
  (grades 1–4, five-year validity, some expiring during the year: most are renewed, some not); each program
  adds its own part of the world (Program.simulation: e.g. households already receiving a program, assessments
  due in the year, a one-off trigger) and says who became eligible, from the simulated registry.
- Each day: deaths (by age), births, moves out of the city, new disability certificates, renewals, the programs'
  own events; then the scheduler's jobs for that date (every program's declared scan, the lifecycle jobs); then simulated citizens answer their proposals with realistic delays (some never: the
  community worker's home-help task, 14 days after the proposal, reaches them), staff review the cases that
  wait for a review within a few working days (and, where the program declares an approval step, a different
  simulated staff member approves them a few days later), a program's own staff steps run with their delays (its simulation
  module's `staff`: e.g. a home visit, a street review, a county approval), each program's sweep closes what is
  due (e.g. a public notice period), and on the 5th of each month the roll of that month is computed and closed.
- The KPIs per program: eligible, proposed within a day, wrongful payment-months, the median days from
  eligibility to approval and to the first payment, trips (what the simulated people did at a counter), messages
  per benefit started.
- Everything is set-based SQL except the answers and reviews, which go through the same functions the API
  uses (flows.casework.confirm / review / approve / complete_home_help), in one transaction per day.
"""

from __future__ import annotations

import importlib
import random
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, insert, select, text, update

from app.crypto import cipher_for
from app.db import make_engine, session_factory, utcnow
from app.masking import mask_account
from app.models import (
    Application,
    Benefit,
    DeathRecord,
    DisabilityCertificate,
    HukouMove,
    OneOffPayment,
    OutboxMessage,
    PayoutAccount,
    PayrollLine,
    PayrollRun,
    Resident,
    StaffTask,
)
from app.models.ids import new_id
from flows import applicants, casework, counter, payroll, payroll_gate, programs
from flows.dates import month_of
from flows.imports.people import load_people
from flows.imports.report import RejectReport, report_path
from flows.imports.writer import ResidentWriter
from flows.lifecycle.jobs import run_daily
from flows.scans import run_scan, scanning_programs
from flows.synthetic_city import City, PeopleWriter

ANNUAL_DEATH = ((60, 0.001), (70, 0.008), (80, 0.025), (90, 0.07), (100, 0.18), (200, 0.35))
MOVE_OUT_RATE = 0.004
NEW_CERT_RATE = 0.004
BIRTH_RATE = 0.007
CERT_SHARE = 0.06
RENEWAL_SHARE = 0.7
PAY_DAY = 5


def simulated(program):
    """The program's part of the simulated world (Program.simulation), or None. It may define plan(sim, rows,
    today) (its world at the start), apply(sim, day) (its events of a day), staff(sim, s, day) (its staff steps
    of a day, in the day's session), eligible(sim, s, ok) → {resident: day} (who became eligible, from the
    simulated registry, independently of the program's own SQL) and row(sim, s) → its own KPI row."""
    return importlib.import_module(program.simulation) if program.simulation else None


@dataclass
class Kpis:
    people: int
    days: int
    seed: int
    start: date
    rows: dict = field(default_factory=dict)
    anomalies: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)


def _annual_death(age: int) -> float:
    return next(q for limit, q in ANNUAL_DEATH if age < limit)


def _answer_delay(rng: random.Random) -> int | None:
    """Days until the citizen (or a family member) answers a proposal; None: never (the worker will come)."""
    r = rng.random()
    if r < 0.55:
        return rng.randint(0, 2)
    if r < 0.80:
        return rng.randint(3, 9)
    if r < 0.92:
        return rng.randint(10, 13)
    return None


class Simulation:
    def __init__(self, cfg, people: int, days: int, seed: int, start: date, progress=None):
        self.cfg, self.n, self.days, self.seed, self.start = cfg, people, days, seed, start
        self.end = start + timedelta(days=days - 1)
        self.rng = random.Random(seed)
        self.engine = make_engine(cfg.database_url)
        self.Session = session_factory(cfg)
        self.cipher = cipher_for(cfg)
        self.progress = progress or (lambda msg: None)
        self.answers: dict[date, list[str]] = defaultdict(list)
        self.reviews: dict[date, list[str]] = defaultdict(list)
        self.approvals: dict[date, list[str]] = defaultdict(list)  # reviewed, waiting for a different approver
        self.events: dict[date, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        self.closed_on: dict[str, date] = {}
        self.approved_on: dict[tuple[int, str], date] = {}  # (resident, program) → the simulated day approved
        self.counts: dict[str, int] = defaultdict(int)
        # what simulated people did, per program: "online" (mini-program), "home_help" (a worker came), "counter"
        # (a trip to an office: none of the simulated steps asks for one) — the trips column counts "counter"
        self.actions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.city = City(seed + 1, start - timedelta(days=1))
        # what the programs' simulation modules keep: the heads of the households receiving a program at the
        # start (program → resident ids), and each program's own state (program → anything)
        self.household_heads: dict[str, list[int]] = {}
        self.world: dict[str, object] = {}
        self.parts = [(p, m) for p in programs.PROGRAMS.values() if (m := simulated(p)) is not None]

    # ---- the city -------------------------------------------------------------------------------------------
    def build(self) -> None:
        today = self.start - timedelta(days=1)
        generator = PeopleWriter(City(self.seed, today))
        report = RejectReport(report_path(self.cfg.instance_path, "simulate", f"s{self.seed}"), always=False)
        writer = ResidentWriter(self.engine, self.cipher, today)
        numbered = ((line, row) for line, row in enumerate(generator.rows(self.n), start=2))
        try:
            load_people(writer, numbered, today, set(), report)
        finally:
            report.close()
        with self.engine.begin() as conn:
            rows = conn.execute(select(Resident.id, Resident.birth_date, Resident.household_id, Resident.death_date,
                                       Resident.hukou_local, Resident.district_code, Resident.street_code,
                                       Resident.community_code, Resident.relation_to_head)).all()
        self.residents = rows
        self._accounts(rows, today)
        self._certificates(rows, today)
        for _program, part in self.parts:  # e.g. legacy benefits, assessments due in the year, a trigger day
            if hasattr(part, "plan"):
                part.plan(self, rows, today)
        self._plan_events(rows)

    def _accounts(self, rows, today: date) -> None:
        values = []
        for r in rows:
            number = "6222" + f"{self.rng.randrange(10**15):015d}"
            values.append({"resident_id": r.id, "kind": "sscard", "bank_name": "", "number_enc":
                           self.cipher.encrypt(number), "number_mask": mask_account(number),
                           "number_hash": self.cipher.lookup_hash(number, "account"), "source": "import",
                           "changed_by": None, "source_date": today, "updated_at": utcnow()})
        self.bulk(PayoutAccount, values)

    def _cert_row(self, resident_id: int, grade: int, issue: date, expiry: date, today: date) -> dict:
        return {"resident_id": resident_id, "cert_hash": new_id() + new_id(), "cert_mask": "1****************X**",
                "category": str(self.rng.randint(1, 7)), "grade": grade, "issue_date": issue, "expiry_date": expiry,
                "row_hash": "sim", "source": "disabled_persons_federation", "source_date": today,
                "updated_at": utcnow()}

    def _grade(self) -> int:
        return self.rng.choices((1, 2, 3, 4), weights=(15, 20, 30, 35))[0]

    def _certificates(self, rows, today: date) -> None:
        values, self.certified = [], set()
        for r in rows:
            if r.death_date is None and self.rng.random() < CERT_SHARE:
                issue = today - timedelta(days=self.rng.randrange(5 * 365))
                expiry = issue + timedelta(days=5 * 365)
                values.append(self._cert_row(r.id, self._grade(), issue, expiry, today))
                self.certified.add(r.id)
        self.bulk(DisabilityCertificate, values)
        self.counts["certificates_at_start"] = len(values)

    def _plan_events(self, rows) -> None:
        """Who dies, moves, gets a certificate, on which day of the year (drawn once per resident)."""
        for r in rows:
            if r.death_date is not None:
                continue
            age = (self.start - r.birth_date).days // 365
            if self.rng.random() < _annual_death(age) * self.days / 365:
                self.events[self._day()]["deaths"].append(r.id)
            elif r.hukou_local and self.rng.random() < MOVE_OUT_RATE * self.days / 365:
                self.events[self._day()]["moves"].append(r.id)
            if r.id not in self.certified and self.rng.random() < NEW_CERT_RATE * self.days / 365:
                self.events[self._day()]["certificates"].append(r.id)
        for _ in range(int(len(rows) * BIRTH_RATE * self.days / 365)):
            self.events[self._day()]["births"].append(self.rng.choice(rows))

    def _day(self) -> date:
        return self.start + timedelta(days=self.rng.randrange(self.days))

    def bulk(self, model, values: list[dict]) -> None:
        with self.engine.begin() as conn:
            for i in range(0, len(values), 10_000):
                if values[i:i + 10_000]:
                    conn.execute(insert(model.__table__), values[i:i + 10_000])

    # ---- a day ----------------------------------------------------------------------------------------------------
    def apply_events(self, day: date) -> None:
        ev = self.events.pop(day, {})
        now = utcnow()
        with self.engine.begin() as conn:
            deaths = ev.get("deaths", [])
            if deaths:
                conn.execute(insert(DeathRecord.__table__), [
                    {"resident_id": rid, "death_date": day, "source": "health", "source_date": day, "updated_at": now}
                    for rid in deaths])
                conn.execute(update(Resident).where(Resident.id.in_(deaths)).values(death_date=day, updated_at=now))
            moves = ev.get("moves", [])
            if moves:
                conn.execute(insert(HukouMove.__table__), [
                    {"resident_id": rid, "move_date": day, "direction": "out", "area_code": "110105",
                     "source": "population_registry", "source_date": day, "created_at": now} for rid in moves])
                conn.execute(update(Resident).where(Resident.id.in_(moves)).values(hukou_local=False, updated_at=now))
            certs = [self._cert_row(rid, self._grade(), day, day + timedelta(days=5 * 365), day)
                     for rid in ev.get("certificates", [])]
            if certs:
                conn.execute(insert(DisabilityCertificate.__table__), certs)
            # renewals: most certificates expiring in 10 days get a new expiry (same number)
            expiring = conn.execute(select(DisabilityCertificate.id).where(
                DisabilityCertificate.expiry_date == day + timedelta(days=10))).scalars().all()
            renew = [cid for cid in expiring if self.rng.random() < RENEWAL_SHARE]
            if renew:
                conn.execute(update(DisabilityCertificate).where(DisabilityCertificate.id.in_(renew)).values(
                    expiry_date=day + timedelta(days=10 + 5 * 365), source_date=day, updated_at=now))
        births = ev.get("births", [])
        if births:
            writer = ResidentWriter(self.engine, self.cipher, day)
            records = []
            for parent in births:
                sex = self.rng.choice("MF")
                records.append({"id_number": self.city.id_number(parent.district_code, day, sex),
                                "name": self.city.name(self.city.surname(), sex), "sex": sex, "birth_date": day,
                                "household_id": parent.household_id, "relation_to_head": "孙子女",
                                "district_code": parent.district_code, "street_code": parent.street_code,
                                "community_code": parent.community_code, "hukou_local": True, "phone": None,
                                "death_date": None})
            writer.write(records)
        for key in ("deaths", "moves", "certificates", "births"):
            self.counts[key] += len(ev.get(key, []))
        self.counts["renewals"] += len(renew)

    def scheduler_jobs(self, day: date) -> None:
        for program in scanning_programs():
            run_scan(self.cfg, program, day, engine=self.engine)
        run_daily(self.cfg, day, engine=self.engine)
        for program in programs.PROGRAMS.values():  # each program's sweep of its open cases (app.scheduler)
            if sweep := program.hook("sweep"):
                with self.Session() as s:
                    sweep(s, day)
                    s.commit()

    def citizens_and_staff(self, day: date) -> None:
        with self.Session() as s:
            fresh = s.execute(select(Application.id).where(Application.as_of == day,
                                                            Application.state == "proposed")).scalars().all()
            for app_id in fresh:
                delay = _answer_delay(self.rng)
                if delay is not None:
                    self.answers[day + timedelta(days=delay)].append(app_id)
            for app_id in self.answers.pop(day, []):
                app = s.get(Application, app_id)
                if app.state == "proposed":
                    # who answers: the subject, or (applicant ≠ subject, e.g. a funeral) the first applicant asked
                    applicant = applicants.first_proposed(s, app.id)
                    who = s.get(Resident, applicant or app.resident_id)
                    if who is not None and who.phone_hash is None:
                        # no phone: she answers at the counter (帮办), her one trip (issue 13 item 1)
                        visit = counter.open_visit(s, who, None, "card", day, staff_id="sim-clerk")
                        casework.confirm(s, app, f"resident:{who.id}", day)
                        counter.record(visit, action="confirm", application_id=app.id,
                                       consent={"kind": "signature", "path": None})
                        self.actions[app.program]["counter"] += 1
                    else:
                        casework.confirm(s, app, f"resident:{applicant}" if applicant else "sim-citizen", day)
                        self.actions[app.program]["online"] += 1  # in the mini-program: no trip
                    if app.state == "reviewing":
                        self.reviews[day + timedelta(days=self.rng.randint(1, 4))].append(app.id)
            for app_id in self.reviews.pop(day, []):
                app = s.get(Application, app_id)
                if app.state == "reviewing":
                    casework.review(s, app, "sim-staff", approve=True, today=day)
                if app.state == "approving":  # a program with an approval step: another person approves
                    self.approvals[day + timedelta(days=self.rng.randint(1, 3))].append(app.id)
            for app_id in self.approvals.pop(day, []):
                app = s.get(Application, app_id)
                if app.state == "approving":
                    casework.approve(s, app, "sim-approver", approve=True, today=day)
            for _program, part in self.parts:  # a program's own staff steps (e.g. 低保's visit, review, approval)
                if hasattr(part, "staff"):
                    part.staff(self, s, day)
            tasks = s.scalars(select(StaffTask).where(StaffTask.kind == "home_help", StaffTask.state == "open")).all()
            for task in tasks:
                if self.rng.random() < 0.5 or (task.details or {}).get("outcome") == "unreachable":
                    casework.complete_home_help(s, task, "confirmed", "sim-worker", day)
                    app = s.get(Application, task.application_id)
                    self.actions[app.program]["home_help"] += 1  # the worker's visit, not the citizen's trip
                    if app.state == "reviewing":
                        self.reviews[day + timedelta(days=self.rng.randint(1, 4))].append(app.id)
            s.commit()

    def pay(self, day: date) -> None:
        if day.day != PAY_DAY:
            return
        month = month_of(day)
        with self.Session() as s:
            roll = payroll.compute(s, month, day, close=True)
            # the gate (flows.payroll_gate): the roll is signed off by a simulated supervisor
            payroll_gate.after_close(s, roll.run, "simulation:clerk")
            payroll_gate.sign_off_simulated(s, month)
            s.commit()
            self.last_anomalies = {k: v["count"] for k, v in roll.anomalies.items()}
        self.closed_on[month] = day

    def _approvals_of(self, day: date, since) -> None:
        """The simulated day of each approval (decided_at is the machine's clock): those decided since `since`."""
        with self.engine.connect() as conn:
            for program, rid in conn.execute(select(Application.program, Application.resident_id).where(
                    Application.state == "approved", Application.decided_at >= since)):
                self.approved_on.setdefault((rid, program), day)

    # ---- the year ----------------------------------------------------------------------------------------------------
    def warm_up(self) -> None:
        day = self.start - timedelta(days=1)
        self.scheduler_jobs(day)
        with self.Session() as s:
            ids = s.scalars(select(Application.id).where(Application.state == "proposed")).all()
        for i in range(0, len(ids), 200):  # small transactions: a big identity map makes every flush slow
            with self.Session() as s:
                for app in s.scalars(select(Application).where(Application.id.in_(ids[i:i + 200]))).all():
                    casework.confirm(s, app, "sim-existing", day)
                    if app.state == "reviewing":
                        casework.review(s, app, "sim-staff", approve=True, today=day)
                    if app.state == "approving":
                        casework.approve(s, app, "sim-approver", approve=True, today=day)
                s.commit()
            if i % 2000 == 0:
                self.progress(f"warm-up: {i}/{len(ids)} existing beneficiaries confirmed")

    def run(self) -> Kpis:
        timings, t0 = {}, time.perf_counter()
        self.progress(f"building a city of {self.n} residents")
        self.build()
        timings["city"] = time.perf_counter() - t0
        self.progress(f"city built in {timings['city']:.0f}s; warm-up")
        t1 = time.perf_counter()
        self.warm_up()
        timings["warm_up"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        self.last_anomalies = {}
        for i in range(self.days):
            day = self.start + timedelta(days=i)
            mark = utcnow()
            self.apply_events(day)
            for _program, part in self.parts:  # the programs' own events of the day
                if hasattr(part, "apply"):
                    part.apply(self, day)
            self.scheduler_jobs(day)
            self.citizens_and_staff(day)
            self.pay(day)
            self._approvals_of(day, mark)
            if i % 30 == 0:
                self.progress(f"day {i + 1}/{self.days} ({day}) {time.perf_counter() - t2:.0f}s")
        timings["year"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        kpis = self.kpis()
        timings["kpis"] = time.perf_counter() - t3
        timings["total"] = time.perf_counter() - t0
        kpis.seconds = timings
        return kpis

    # ---- KPIs ----------------------------------------------------------------------------------------------------------
    def _eligible_since(self, s) -> dict[str, dict[int, date]]:
        """Who became eligible during the year, and on which day (alive and local the day after): each program's
        own account of it (its simulation module), or — for a certificate-based program — a certificate issued
        in the year within its grades (and, where it needs one, in a household receiving that program then)."""
        def ok(r, when):
            alive = r.death_date is None or r.death_date > when + timedelta(days=1)
            moved = r.id in moved_on and moved_on[r.id] <= when + timedelta(days=1)
            return alive and r.hukou_local is not None and not moved and (r.hukou_local or r.id in moved_on)

        moved_on = dict(s.execute(select(HukouMove.resident_id, func.min(HukouMove.move_date))
                                  .group_by(HukouMove.resident_id)).all())
        out: dict[str, dict[int, date]] = {}
        for program in programs.PROGRAMS.values():
            part = simulated(program)
            if part is not None and hasattr(part, "eligible"):
                out[program.code] = part.eligible(self, s, ok)
            elif program.certificate_based:
                out[program.code] = self._certified_in_year(s, program, ok)
        return out

    def _certified_in_year(self, s, program, ok) -> dict[int, date]:
        max_grade = program.parameters["max_grade"].at(max(self.start, program.parameters["start_date"]))
        needs = program.requires_household_benefit
        in_household = {rid for (rid,) in s.execute(text(
            "SELECT r.id FROM benefits b JOIN residents h ON h.id = b.resident_id "
            "JOIN residents r ON r.household_id = h.household_id WHERE b.program = :p"), {"p": needs})} if needs else set()
        out = {}
        for c in s.execute(select(DisabilityCertificate.resident_id, DisabilityCertificate.grade,
                                  DisabilityCertificate.issue_date, Resident.death_date, Resident.hukou_local,
                                  Resident.id).join(Resident, Resident.id == DisabilityCertificate.resident_id)
                           .where(DisabilityCertificate.issue_date >= self.start,
                                  DisabilityCertificate.issue_date <= self.end)):
            if not ok(c, c.issue_date) or c.grade > max_grade:
                continue
            if needs and not (c.resident_id in in_household and self._household_receives(s, needs, c.resident_id,
                                                                                            c.issue_date)):
                continue
            out[c.resident_id] = c.issue_date
        return out

    def _household_receives(self, s, program: str, resident_id: int, day: date) -> bool:
        return bool(s.execute(text(
            "SELECT 1 FROM benefits b JOIN residents h ON h.id = b.resident_id JOIN residents r ON "
            "r.household_id = h.household_id WHERE r.id = :rid AND b.program = :p AND "
            "(b.state = 'active' OR (b.end_month IS NOT NULL AND b.end_month >= :m))"),
            {"rid": resident_id, "p": program, "m": month_of(day)}).first())

    def kpis(self) -> Kpis:
        result = Kpis(self.n, self.days, self.seed, self.start, anomalies=dict(self.last_anomalies),
                      events=dict(self.counts))
        with self.Session() as s:
            eligible = self._eligible_since(s)
            proposed = defaultdict(dict)
            for a in s.execute(select(Application.program, Application.resident_id, Application.as_of)
                               .where(Application.as_of >= self.start)):
                # the first proposal counts (a household rejected later may be proposed again after the quiet days)
                proposed[a.program][a.resident_id] = min(a.as_of, proposed[a.program].get(a.resident_id, a.as_of))
            first_paid = self._first_payment_days(s)
            wrongful = self._wrongful_months(s)
            for code in eligible:
                program = programs.get(code)
                who = eligible[code]
                on_time = sum(1 for rid, d in who.items() if rid in proposed[code] and (proposed[code][rid] - d).days <= 1)
                started = s.scalar(select(func.count()).select_from(Benefit).join(
                    Application, Application.id == Benefit.application_id).where(
                    Benefit.program == code, Application.as_of >= self.start)) or s.scalar(
                    select(func.count()).select_from(OneOffPayment).join(  # a one-off grant, no monthly benefit
                        Application, Application.id == OneOffPayment.application_id).where(
                        OneOffPayment.program == code, Application.as_of >= self.start))
                messages = s.scalar(select(func.count()).select_from(OutboxMessage).join(
                    Application, Application.id == OutboxMessage.application_id).where(
                    Application.program == code, Application.as_of >= self.start))
                delays = [(first_paid[rid_code] - who[rid_code[0]]).days
                          for rid_code in first_paid if rid_code[1] == code and rid_code[0] in who]
                to_approval = [(self.approved_on[key] - who[key[0]]).days
                               for key in self.approved_on if key[1] == code and key[0] in who]
                result.rows[code] = {
                    "name": program.short_name,
                    "eligible": len(who), "proposed_on_time": on_time,
                    "coverage": (on_time / len(who)) if who else 1.0,
                    "wrongful_months": wrongful.get(code, 0),
                    "median_days_to_approval": statistics.median(to_approval) if to_approval else None,
                    "median_days_to_pay": statistics.median(delays) if delays else None,
                    "paid": len(delays),
                    "trips": self.actions[code]["counter"],
                    "benefits_started": started,
                    "messages_per_benefit": (messages / started) if started else None,
                }
            for program, part in self.parts:  # a program with a row of its own (e.g. a one-off grant)
                if hasattr(part, "row"):
                    result.rows[program.code] = part.row(self, s)
        return result

    def _first_payment_days(self, s) -> dict[tuple[int, str], date]:
        firsts: dict[tuple[int, str], date] = {}
        for rid, program, month in s.execute(
                select(PayrollLine.resident_id, PayrollLine.program, func.min(PayrollLine.month))
                .join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
                .where(PayrollRun.state == "closed", PayrollLine.status == "paid")
                .group_by(PayrollLine.resident_id, PayrollLine.program)):
            if month in self.closed_on:
                firsts[(rid, program)] = self.closed_on[month]
        for rid, program, month in s.execute(  # one-off grants: keyed by their subject (e.g. the deceased)
                select(OneOffPayment.subject_resident_id, OneOffPayment.program, OneOffPayment.paid_in_month)
                .where(OneOffPayment.state == "paid", OneOffPayment.subject_resident_id.is_not(None))):
            if month in self.closed_on:
                firsts[(rid, program)] = self.closed_on[month]
        return firsts

    def _wrongful_months(self, s) -> dict[str, int]:
        """Months paid (closed rolls) to someone ineligible that month: dead, moved out, no valid certificate (a
        certificate-based program), or owed nothing by the program's rule for that month (its `amount_for` gives
        no tier, e.g. under the minimum age) — judged from the registry as it stands at the end of the year."""
        moved = dict(s.execute(select(HukouMove.resident_id, func.min(HukouMove.move_date))
                               .where(HukouMove.direction == "out").group_by(HukouMove.resident_id)).all())
        cert_end = dict(s.execute(select(DisabilityCertificate.resident_id, func.max(DisabilityCertificate.expiry_date))
                                  .group_by(DisabilityCertificate.resident_id)).all())
        people = {r.id: r for r in s.execute(select(Resident.id, Resident.birth_date, Resident.death_date))}
        bad: dict[str, int] = defaultdict(int)
        for program, rid, months, tier in s.execute(
                select(PayrollLine.program, PayrollLine.resident_id, PayrollLine.months, PayrollLine.tier)
                .join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
                .where(PayrollRun.state == "closed", PayrollLine.status == "paid")):
            r, declared = people[rid], programs.get(program)
            for m in months:
                owed = declared.amount_for(tier, r.birth_date, m) if declared and declared.amount_for else None
                if r.death_date and m > month_of(r.death_date):
                    bad[program] += 1
                elif rid in moved and m > month_of(moved[rid]):
                    bad[program] += 1
                elif owed is not None and owed[0] == "":
                    bad[program] += 1
                elif declared and declared.certificate_based and (rid not in cert_end or m > month_of(cert_end[rid])):
                    bad[program] += 1
        return bad


def format_table(k: Kpis) -> str:
    head = ("| program | eligible in the year | coverage (proposed ≤ 1 day) | wrongful payments (months) | "
            "median days eligibility → approval | median days eligibility → first payment | trips | "
            "messages per benefit started |")
    lines = [head, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for code, row in k.rows.items():
        median = f"{row['median_days_to_pay']:.0f}" if row["median_days_to_pay"] is not None else "–"
        approval = row.get("median_days_to_approval")
        median = (f"{approval:.0f}" if approval is not None else "–") + f" | {median}"
        per = f"{row['messages_per_benefit']:.2f}" if row["messages_per_benefit"] is not None else "–"
        lines.append(f"| {row['name']} (`{code}`) | {row['eligible']} | {row['coverage'] * 100:.1f}% "
                     f"({row['proposed_on_time']}/{row['eligible']}) | {row['wrongful_months']} | {median} | "
                     f"{row['trips']} | {per} |")
    s = k.seconds
    lines.append("")
    lines.append("anomalies in the last roll: " + ", ".join(f"{a}={n}" for a, n in k.anomalies.items()))
    lines.append("events: " + ", ".join(f"{a}={n}" for a, n in sorted(k.events.items())))
    lines.append(f"run time: {s.get('total', 0):.0f} s (city {s.get('city', 0):.0f} s, warm-up "
                 f"{s.get('warm_up', 0):.0f} s, {k.days} days {s.get('year', 0):.0f} s, KPIs {s.get('kpis', 0):.0f} s)")
    return "\n".join(lines)
