"""Lock, sync and check a project's models (``localmodels lock | sync | check``).

- :func:`lock_manifest` (:mod:`.sync_plan`) resolves every manifest entry (pulling what is
  missing) and records the source, commit and every file's size and sha256.
- :func:`sync` (:mod:`.sync_apply`) fetches what a lock (or a manifest) names, with a bounded pool
  of worker threads calling :func:`localmodels.store.pull`; in offline mode it makes no network
  request and only checks.
- :func:`check` (:mod:`.sync_compare`) hashes every locked file and compares it with the lock
  (never touches the network).

Exit codes (``Report.exit_code``, :mod:`.sync_report`): 0 all required models good, 1 a required
model missing or not fetchable, 2 a required model corrupt (a file whose size or sha256 differs
from the lock). Problems with optional models (``required = false``) are warnings and never change
the exit code.
"""

from __future__ import annotations

from .sync_apply import DEFAULT_ATTEMPTS, sync, sync_model, sync_spec, with_retry_policy
from .sync_compare import (
    DEFAULT_WORKERS,
    check,
    check_model,
    compare_files,
    locate,
    locked_ref,
    pinned_spec_ref,
    spec_ref,
)
from .sync_plan import LockOutcome, lock_manifest, locked_from, stale_entries
from .sync_report import Report, Status, SyncStatus

__all__ = ["DEFAULT_ATTEMPTS", "DEFAULT_WORKERS", "LockOutcome", "Report", "Status", "SyncStatus",
           "check", "check_model", "compare_files", "lock_manifest", "locate", "locked_from", "locked_ref",
           "pinned_spec_ref", "spec_ref", "stale_entries", "sync", "sync_model", "sync_spec", "with_retry_policy"]
