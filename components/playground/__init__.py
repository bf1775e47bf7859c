"""Playground widgets: the prompt editor and runs, tabs, versions, the saved record."""
