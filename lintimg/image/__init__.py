"""Container images: sources, layers, the merged filesystem."""
