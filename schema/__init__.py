"""GraphQL types and the assembled schema. `schema/schema.graphql` is its printed contract."""
