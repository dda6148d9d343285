"""`wm` from a shell: the click commands above the engine."""
