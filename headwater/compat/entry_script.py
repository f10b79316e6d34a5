"""SDK v1's ``azureml_user.parallel_run.EntryScript`` for a ParallelRunStep entry script (stdlib only).

``EntryScript().logger`` writes to the worker's own log,
``logs/user/entry_script_log/<node>/processNNN.log.txt``; ``log_dir``, ``output_dir``,
``working_dir``, ``agent_name`` and ``node_id`` are as in SDK v1. Outside a ParallelRunStep the
logger writes to stderr and ``output_dir`` is the current directory.
"""

from __future__ import annotations

import logging
import os

__all__ = ["EntryScript"]

_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}


class EntryScript:
    """The entry script's view of its ParallelRunStep worker (one logger per process)."""

    _logger: logging.Logger | None = None

    @property
    def log_dir(self) -> str:
        """``logs/user`` of the step (the folder for the script's own log files)."""
        root = os.environ.get("HEADWATER_PARALLEL_LOG_DIR")
        return os.path.join(root, "user") if root else os.getcwd()

    @property
    def output_dir(self) -> str:
        """The step's output folder (what ``output`` names), for ``summary_only`` scripts."""
        return os.environ.get("HEADWATER_PARALLEL_OUTPUT") or os.getcwd()

    @property
    def working_dir(self) -> str:
        return os.getcwd()

    @property
    def agent_name(self) -> str:
        """The worker's name, ``processNNN``."""
        return os.environ.get("HEADWATER_PARALLEL_PROCESS", "process000")

    @property
    def node_id(self) -> str:
        return os.environ.get("HEADWATER_PARALLEL_NODE", "localhost")

    @property
    def logger(self) -> logging.Logger:
        """A ``logging.Logger`` writing to this worker's entry-script log."""
        if EntryScript._logger is None:
            logger = logging.getLogger("azureml_user.parallel_run." + self.agent_name)
            logger.propagate = False
            level = os.environ.get("HEADWATER_PARALLEL_LOGGING_LEVEL", "INFO").upper()
            logger.setLevel(_LEVELS.get(level, logging.INFO))
            root = os.environ.get("HEADWATER_PARALLEL_LOG_DIR")
            if root:
                folder = os.path.join(root, "user", "entry_script_log", self.node_id)
                os.makedirs(folder, exist_ok=True)
                path = os.path.join(folder, self.agent_name + ".log.txt")
                handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
            else:
                handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s|%(levelname)s|%(message)s"))
            logger.addHandler(handler)
            EntryScript._logger = logger
        return EntryScript._logger

    def config_log(self) -> logging.Logger:
        """SDK v1 sets up logging here; the logger is set up on first use."""
        return self.logger
