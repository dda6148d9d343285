"""Winged Monkey: every instance and n-tier app you own, across clouds, in one terminal."""

__version__ = "0.1.0"
