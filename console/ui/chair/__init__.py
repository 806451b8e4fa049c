"""chair."""
