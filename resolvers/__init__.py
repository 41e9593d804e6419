"""Use cases, role-scoped. Each takes the request context and plain arguments, checks the
caller's role and scope, works through the tenant-scoped session, and returns rows or raises a
DomainError. No GraphQL types here."""
