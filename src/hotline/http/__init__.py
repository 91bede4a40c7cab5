"""HTTP plumbing shared by the node's HTTP adapters (the operator API, the federation
API, the ingest API): nothing here knows one of them."""
