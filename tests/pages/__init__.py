"""AppTest tests, one module per page (a package, so test names may repeat elsewhere)."""
