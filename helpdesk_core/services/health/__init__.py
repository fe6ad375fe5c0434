"""Health checks: run them, record their results, and let the rules raise and resolve tickets.

One idea per module:

- :mod:`.rules`: the ticket rules, pure (a check's state and one result in, a decision
  out): thresholds, warnings, recovery, one ticket per device, dependencies, flapping;
- :mod:`.recording`: store results (a batch per transaction) and carry the decisions
  out; the device's outage history; :func:`~.recording.on_state_change`, the one place a
  check's confirmed failure or recovery is announced; retention;
- :mod:`.state`: what a batch of results reads and writes, as plain rows and a few
  executemany statements (no ORM objects for the common result);
- :mod:`.filing`: the text, priority and category of a device's ticket;
- :mod:`.running`: one run outside any transaction, the advisory locks, :func:`check_now`;
- :mod:`.batching` and :mod:`.runner`: the scheduler's many concurrent runs on an event
  loop, with few statements and commits;
- :mod:`.board`: the status board.

This package re-exports what the web app, the CLI and the tests use.
"""

from .batching import Recorder, RunLocks, TargetReader
from .board import Board, BoardWard, colour_of, outage_history, status_board
from .filing import PRIORITY_BY_CRITICALITY, WARNING_PRIORITY
from .recording import (Outcome, PendingResult, on_state_change, open_ticket_for,
                        open_tickets_for, prune_records, record_result, record_results)
from .rules import DEFAULT_POLICY, HealthPolicy
from .runner import CheckRunner
from .running import (check_now, ran_recently, read_targets, run_check, run_lock,
                      schedulable_checks, target_of)

__all__ = ["HealthPolicy", "DEFAULT_POLICY", "Outcome", "PRIORITY_BY_CRITICALITY",
           "WARNING_PRIORITY", "PendingResult", "Recorder", "RunLocks", "TargetReader",
           "CheckRunner", "record_results", "record_result", "on_state_change",
           "target_of", "run_check", "open_ticket_for", "open_tickets_for", "run_lock",
           "read_targets", "ran_recently", "check_now", "schedulable_checks",
           "prune_records", "status_board", "colour_of", "outage_history", "Board",
           "BoardWard"]
