"""Layer 4: one document checked against its schema: keys, per-key checks, configs, pipelines,
the result, the body models, and the reports that print results."""
