"""Analytics: DuckDB over any Storage: views, reports, SQL."""
