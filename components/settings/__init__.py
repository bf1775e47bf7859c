"""Settings page widgets: endpoints, places (data folder, store, hub), runtimes."""
