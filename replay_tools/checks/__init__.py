"""The audit's checks: integrity, re-derivation, invariants, agreement with the views."""
