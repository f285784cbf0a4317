"""admin domain: an office admin's pages (closures, hours, configuration, staff, messages)."""
