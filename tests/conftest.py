"""Shared fixtures: a real database per test (SQLite, and PostgreSQL when ORDERHUB_TEST_PG)."""
