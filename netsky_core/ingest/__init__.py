"""Ingest: reading agent history files incrementally, pricing, git facts."""
