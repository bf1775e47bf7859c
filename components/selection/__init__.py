"""Model selection widgets: the catalogue, a custom model, the estimate panels."""
