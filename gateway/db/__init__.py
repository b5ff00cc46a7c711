"""Database adapters: migrations, the connection pool, repositories."""
