"""Layer 3: connector definitions and everything made from them: JSON Schema, the bundle,
the cache (and pulls through ``remote``), the lock file, diffs, editor schemas, starters."""
