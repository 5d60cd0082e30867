"""Webhooks: endpoints kept in the store, and signed, retried, resumable delivery of the
event feed to them (`ledger webhooks ...`, and the loop inside `ledger serve`)."""
