"""The project's node types; importing this package registers them all."""
