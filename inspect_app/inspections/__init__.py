"""Field inspections: filling on a tablet, evidence, signature, submission into findings."""
