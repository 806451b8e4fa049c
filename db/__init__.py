"""Storage: the SQLite file through sqlite-utils — schema and migrations, the
writer thread, and the queries the domain needs. Knows nothing of Qt."""
