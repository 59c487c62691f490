"""The lab's two ways to fail without a wrong answer."""


class Unavailable(Exception):
    """A feature an experiment needs is missing or was refused at run time: a skip."""


class RunnerError(RuntimeError):
    """The runner process failed or timed out; the message carries its stderr."""
