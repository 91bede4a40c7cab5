"""Storage: SQLAlchemy Core over SQLite (default) or PostgreSQL, plus the key files."""
