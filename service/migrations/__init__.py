"""The schema flows forward: Alembic revisions that bring a database to the current tables."""
