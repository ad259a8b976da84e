"""The platforms' open APIs, one module per platform: request signing, order detail and order
list reads, and the OAuth token exchange and refresh. Every call has a timeout; an error answer
or an unreachable host is a PlatformApiError (docs/connectors.md cites each endpoint)."""
