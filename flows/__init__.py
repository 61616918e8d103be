"""Orchestration: Prefect flows, batching, state and writing. Cleaning lives in `cleaners/`."""
