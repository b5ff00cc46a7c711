"""Authentication adapters: user passwords, JWT bearer tokens and machine API keys → services.access.Principal."""
