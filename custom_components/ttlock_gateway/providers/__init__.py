"""Cloud clients for smart locks. No Home Assistant imports in this package."""
