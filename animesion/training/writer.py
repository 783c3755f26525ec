"""Writing an epoch's checkpoints on a background thread while the next epoch trains.

Each job is an atomic write of a copy taken when it was queued (weights change as training goes on), run
in the order queued. A failure (a full disk) is raised in the training thread at the next ``submit`` or
``flush`` as the :class:`CheckpointError` it was, and the files of the earlier jobs stay as they were.
A process killed while a job runs loses that job's file only: the previous one was never touched.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from torch.utils._pytree import tree_map


def detached_copy(obj: object) -> object:
    """``obj`` (a state dict, nested) with every tensor copied to the CPU: safe to write while training goes on."""
    return tree_map(lambda x: x.detach().to("cpu", copy=True) if hasattr(x, "detach") else x, obj)


class BackgroundWriter:
    """One daemon thread that runs file-writing jobs in order; ``flush`` waits for all of them."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], object] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="checkpoint-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                if self._error is None:  # after a failure nothing more is written; the error is reported
                    job()
            except BaseException as err:  # handed to the training thread as it was
                self._error = err
            finally:
                self._jobs.task_done()
        self._jobs.task_done()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, job: Callable[[], object]) -> None:
        """Queue ``job`` (raising first the failure of an earlier one, if any)."""
        self._raise()
        self._jobs.put(job)

    def flush(self) -> None:
        """Wait until every queued job has run; raise the failure of any of them."""
        self._jobs.join()
        self._raise()

    def close(self) -> None:
        """Stop the thread once the queue is empty (without raising: use ``flush`` for that)."""
        self._jobs.put(None)
        self._thread.join()


__all__ = ["BackgroundWriter", "detached_copy"]
