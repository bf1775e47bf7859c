"""Stage 5: offline metrics, evaluation sets, evaluation runs and their statistics."""
