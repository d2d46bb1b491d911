"""Chat models the agent can run on."""
