"""`python -m app.cli.is_empty`: exit 0 when the database holds no residents (so `make run` seeds it)."""

import sys

from sqlalchemy import func, select

from app.config import load_config
from app.db import session_factory
from app.models import Resident

with session_factory(load_config())() as s:
    sys.exit(0 if not s.scalar(select(func.count()).select_from(Resident)) else 1)
