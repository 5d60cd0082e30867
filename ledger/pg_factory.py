"""eventsourcing's PostgreSQL factory, with the libpq parameters of the store URL
(`sslmode`, `application_name`, …) given to every connection of its pool.

The library builds its pool from dbname, host, port, user and password only; the pool
opens on first use, so the parameters are added to its connection arguments here,
before any connection is made.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.postgres import PostgresFactory

from ledger.stores import LIBPQ_PARAMS_KEY


class LedgerPostgresFactory(PostgresFactory):
    def __init__(self, env: Any) -> None:
        super().__init__(env)
        params: dict[str, str] = json.loads(self.env.get(LIBPQ_PARAMS_KEY) or "{}")
        kwargs = self.datastore.pool.kwargs
        assert isinstance(kwargs, dict)
        kwargs.update(params)
