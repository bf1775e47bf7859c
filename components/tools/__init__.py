"""Infrastructure page, tools: program-aided answers with a safe calculator."""
