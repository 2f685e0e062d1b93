"""Ingest: Claude Code and Codex transcripts, hook payloads, pricing."""
