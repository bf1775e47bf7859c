"""Opening and picking models for any page: the one picker and the runtime opener."""
