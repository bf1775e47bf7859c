"""Models for any page: the one picker, loading on the page, and the runtime opener."""
