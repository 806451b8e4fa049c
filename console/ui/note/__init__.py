"""note."""
