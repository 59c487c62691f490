"""Views render a trace; they never compute. Heavy dependencies load lazily per module.

text: fixed-width tables (deterministic, used by the CLI and nbval).
"""
