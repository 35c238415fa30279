"""Import mappings shipped with creditrisk (YAML package data); see docs/import.md."""
