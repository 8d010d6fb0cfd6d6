"""Layer 0, the ground every other layer stands on: records, errors and issues, documents and
kinds, references, close-name hints, safe text. It imports nothing of the package."""
