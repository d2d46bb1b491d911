"""Orders: the domain model, the business rules and the stores behind the agent's tools."""
