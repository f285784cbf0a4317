"""waitlist domain: wishes for scarce slots and exclusive offers of capacity that appears."""
