"""Stage 3, fine-tuning: training data preparation (the job runner arrives with issue #5)."""
