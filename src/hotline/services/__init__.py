"""Use cases: each takes input, applies the domain's rules and writes through the store."""
