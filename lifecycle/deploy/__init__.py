"""Stage 6: optimised variants, their measurements, the serving what-if and the export."""
