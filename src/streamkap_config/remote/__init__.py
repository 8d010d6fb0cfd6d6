"""Layer 2: the HTTP client of the Streamkap API, its endpoints and the objects it returns.
It imports only from ``core``."""
