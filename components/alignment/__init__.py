"""Align page widgets: collecting preferences, the reward model, DPO, their charts."""
