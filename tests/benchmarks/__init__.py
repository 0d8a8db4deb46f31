"""``make bench`` runs: each benchmark end to end at a tiny size (the figures are not checked;
that they are produced, from real runs, is)."""
