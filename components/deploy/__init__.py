"""Deploy page widgets: measuring variants, serving (what-if and export), their charts."""
