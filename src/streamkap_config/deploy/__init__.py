"""Layer 6: the live account: bodies to send, plan, apply, prune, import and status."""
