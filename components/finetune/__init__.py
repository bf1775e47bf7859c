"""Fine-tune page widgets: data, settings, pre-launch report, jobs, presets, try, compare."""
