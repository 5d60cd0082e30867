"""The ledger as an HTTP service (`ledger serve`) and its support console."""
