"""Layer 5: a project: ``streamkap.toml``, finding its files, and checks across documents
(names, references, environments, topics)."""
