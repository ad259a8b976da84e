"""Connections: each authorised shop or account, its tokens (encrypted at rest), their refresh,
and the reconciliation that pulls each order connection's orders (docs/connectors.md)."""
