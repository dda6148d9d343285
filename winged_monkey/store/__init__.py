"""Where the portal keeps inventory and the event log: SQLite, or PostgreSQL for `wm serve`."""
