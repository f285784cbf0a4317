"""offices domain: the catalogue of offices, services, bundles, counters, hours, closures and cut-offs."""
