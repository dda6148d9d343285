"""Plain-text pieces the CLI and the TUI share: rendering, ssh plans, consoles, OSC 52."""
