"""Version store, diff, rollback, audit log and replay (the versions issue builds it)."""
