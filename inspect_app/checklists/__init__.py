"""Checklist templates: the YAML/XLSX format, validation, loading and the coordinator pages."""
