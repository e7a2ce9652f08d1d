"""The job contract: what the web side may queue and what the workers run."""
