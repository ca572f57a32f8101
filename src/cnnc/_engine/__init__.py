"""Private histogram engine."""
