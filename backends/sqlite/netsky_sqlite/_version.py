"""The schema version this netsky_sqlite writes, without importing the migrations
(the live reader checks it on every statusline and budget check)."""

LATEST = 4
