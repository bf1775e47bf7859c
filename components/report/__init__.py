"""Reports: the self-contained HTML report, Present mode, the lineage graph."""
