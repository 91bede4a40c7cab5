"""The typed answers of the operator API, one module per area. Their names are the
schema names of the OpenAPI document (the console's client is generated from it), so a
rename is a change of the contract."""
