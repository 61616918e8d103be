"""The process runner's worker pool: workers that are ready before the first batch and leave without teardown."""
from __future__ import annotations

from flows.runners import WorkerPool


def _model_loaded() -> bool:
    """In a worker: whether the language model was loaded before this call asked for nothing else."""
    from cleaners.charlm import load_charlm

    return load_charlm.cache_info().currsize == 1


def test_a_new_worker_has_loaded_the_language_model_before_its_first_batch():
    pool = WorkerPool(1)
    try:
        assert pool.run(_model_loaded) is True
    finally:
        pool.shutdown()


def test_workers_start_with_the_pool_and_exit_with_status_zero():
    pool = WorkerPool(2)
    workers = list(pool._executor._processes.values())  # no public way to a pool's workers
    assert len(workers) == 2, "the workers start with the pool, before any batch"
    pool.shutdown()
    assert [worker.exitcode for worker in workers] == [0, 0]
