"""The auditor's side: replay the log, verify it, rebuild the views, explain an account."""
