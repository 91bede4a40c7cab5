"""Federation between nodes: the signed HTTP API, its client, and the workers that deliver,
catch up and test the links."""
