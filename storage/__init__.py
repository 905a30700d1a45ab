"""Persistence: PostgreSQL models, migrations and repositories; Redis; the object store."""
