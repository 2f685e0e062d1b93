"""netsky-duckdb: an example third-party netsky storage backend over a DuckDB file."""
