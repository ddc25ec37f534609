"""Directory: departments, units, systems and user accounts, with Excel import of units and systems."""
