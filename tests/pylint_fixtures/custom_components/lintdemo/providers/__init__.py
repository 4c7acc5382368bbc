"""The Home Assistant-free layer: its own clock is fine."""
