"""Stage 3, fine-tuning: training data, configs, run folders, background jobs and training."""
