"""The read side: views folded from the notification log, and point-in-time queries."""
