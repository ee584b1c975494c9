"""The reply: quotes chosen from the retrieved passages, the ISEV warnings, and the rendered text."""
