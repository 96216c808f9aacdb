"""Ingest layer: the manifest and catalogues, reading source files, units and labels, tidy rows per table."""
