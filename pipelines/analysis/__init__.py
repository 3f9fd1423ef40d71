"""Analysis of an edition: Monte Carlo rank intervals, sensitivity, coherence, validation."""
