"""Server-rendered page blueprints (one module per area)."""
