"""Readers for the session and usage files of coding agents other than Claude Code and Codex."""
