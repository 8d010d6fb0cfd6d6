"""The version of streamkap-config (pyproject.toml says the same; a test holds them to it)."""

__version__ = "0.1.0"
