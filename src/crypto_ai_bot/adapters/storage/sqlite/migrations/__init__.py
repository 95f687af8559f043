"""SQL migrations, applied in order by runner.run_migrations."""
