"""Textual views of the portal."""
