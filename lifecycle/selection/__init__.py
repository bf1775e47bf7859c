"""Stage 2: model catalogue, memory and compute estimates, build-vs-reuse advice."""
