"""Scope page widgets: the chosen task's result card and the stage needs."""
