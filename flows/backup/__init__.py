"""`zerotrip db backup` / `restore`: the database (pg_dump custom format, or SQLite's online backup API) plus
the instance files it refers to (audit anchors, import reports, payroll files), never the keys."""
