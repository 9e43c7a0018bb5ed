"""The salon domain: pure rules, commands in, past-tense events out (no I/O)."""
