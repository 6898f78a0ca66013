"""HTTP endpoints, one blueprint per resource under /api/v1."""
