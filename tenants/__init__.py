"""Tenancy: how a request finds its tenant and user, how its session is scoped, onboarding."""
