"""The guided path: stage guide panel, tracker, stage map, gate decisions, the sample."""
