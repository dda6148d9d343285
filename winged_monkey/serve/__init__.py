"""The Conductor-style aggregator: `wm serve` and its wire format."""
