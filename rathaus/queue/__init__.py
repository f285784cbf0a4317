"""queue domain."""
