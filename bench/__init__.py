"""The benchmark suite of MA Home (`scripts/bench`): seed a large database, measure, print one table.

Modules: `env` (the benchmark database and the production-like environment), `seed` (set-based
seeding), `http` (gunicorn, wrk, the sign-up contention client), `locustfile` (the mixed load),
`ingest_child` (the ingestion run whose peak memory is measured), `report` (table and JSON),
`common` (the run's log and the seeded actors), `prepare` (database and reset), `web` (pages,
sign-ups, mixed load, admin), `data` (ingestion and recompute), `scale` (the growth figures),
`run` (the orchestration, `python -m bench`).
"""
