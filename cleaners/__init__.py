"""Cleaning stages: pure functions over text plus an audit record. No Prefect here."""
