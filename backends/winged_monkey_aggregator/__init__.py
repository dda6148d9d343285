"""Winged Monkey backend for the team aggregator (`wm serve`): its rows, actions, catalog
and events, seen through a personal token."""

from winged_monkey_aggregator.backend import AggregatorBackend

__all__ = ["AggregatorBackend"]
