"""Observability: Prometheus metrics (app/observe/metrics.py), the metrics port (server.py) and the
database-derived gauges read at scrape time (database.py). Kept out of the request layers: the API, the
scheduler and the dispatcher command record into it; nothing here imports them."""
