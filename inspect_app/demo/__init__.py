"""Demo data built through the real services: `flask demo seed`."""
