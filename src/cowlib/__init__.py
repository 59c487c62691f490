"""cowlib: a model of Linux anonymous copy-on-write (being written)."""
