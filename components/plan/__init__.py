"""Plan page widgets: the plan against the scope."""
