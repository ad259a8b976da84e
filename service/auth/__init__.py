"""Credentials flow through here: bearer tokens are issued, checked and revoked, and routes are
guarded by scope."""
