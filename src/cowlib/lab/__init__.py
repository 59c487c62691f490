"""The real kernel lab: run each COW scenario on this machine's Linux, beside the model.

Usage::

    from cowlib import lab
    lab.available()                 # features, each with the reason it is (not) usable
    results = lab.run_all()         # one Result per experiment
    print(results[0].table()); results[0].agrees; results[0].to_dict()
    lab.fault_costs().spurious_cow_ns   # median ns per page: copy fault - reuse fault
"""

from .api import experiment_names, fault_costs, fork_pin_cost, run, run_all
from .cli import main
from .errors import RunnerError, Unavailable
from .experiments import EXPERIMENTS
from .features import Feature, available
from .timing import FaultCosts, ForkPinCost
from .verdicts import Result, Row

__all__ = [
    "EXPERIMENTS",
    "FaultCosts",
    "Feature",
    "ForkPinCost",
    "Result",
    "Row",
    "RunnerError",
    "Unavailable",
    "available",
    "experiment_names",
    "fault_costs",
    "fork_pin_cost",
    "main",
    "run",
    "run_all",
]
