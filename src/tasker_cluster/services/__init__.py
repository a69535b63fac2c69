"""Reference tasker services: an orchestration service and a Python worker.

`python -m tasker_cluster.services.orchestration` and `python -m tasker_cluster.services.worker`
share one database (SQLite by default, PostgreSQL when `DATABASE_URL` is a `postgresql://` URL)
and cooperate across any number of instances. Nothing heavy is imported here: each service
process imports only what its own path needs.
"""
