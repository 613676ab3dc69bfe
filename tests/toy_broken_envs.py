"""A user's env module with a bug: importing it fails."""

raise RuntimeError("this module is broken on purpose\nsecond line")
