"""The SDK v1 status words the step-side runtime writes or compares, as plain strings.

A step may run on Python 3.8 (:mod:`headwater.runtime.pythons`), and :mod:`headwater.status` is
made of ``StrEnum``\\ s (Python 3.11), so the runtime keeps its own copy of the few words it needs;
``tests/test_status.py`` checks that they are the vocabulary's.
"""

RUNNING = "Running"
FAILED = "Failed"
CANCELED = "Canceled"
#: How a step may ask to end (``run.fail()``, ``run.cancel()``).
END_STATUSES = (FAILED, CANCELED)

# What a notebook's RunDetails table shows and colours (headwater.compat.widgets, also served to steps).
NOT_STARTED = "NotStarted"
QUEUED = "Queued"
PREPARING = "Preparing"
FINALIZING = "Finalizing"
FINISHED = "Finished"
COMPLETED = "Completed"
#: How runs end (``headwater.status.TERMINAL``).
TERMINAL = frozenset({FINISHED, COMPLETED, FAILED, CANCELED})
