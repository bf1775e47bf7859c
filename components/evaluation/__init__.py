"""Evaluate page widgets: the set, the candidate, running, results, slices, charts."""
