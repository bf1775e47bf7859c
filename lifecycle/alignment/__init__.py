"""Stage 4: preferences, a reward model, best-of-n sampling and the method chooser."""
