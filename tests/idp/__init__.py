"""Real loopback identity providers for browser SSO tests (see README.md)."""
