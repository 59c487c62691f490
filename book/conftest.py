"""nbval over the chapters: run each cell as Jupyter does, recording it in the history.

nbval 0.11 executes cells with store_history=False, so IPython reads the wrong cell when
it checks for a trailing ";" and `plt.plot(...);` gains an output that the stored notebook
lacks (nbval issue #194, IPython issue #14162). This file lives in book/ so that every
`pytest --nbval` over a chapter loads it, however it is invoked.
"""

from nbval.kernel import RunningKernel


def _execute_cell_input(self, cell_input, allow_stdin=None):
    return self.kc.execute(cell_input, allow_stdin=allow_stdin, stop_on_error=False)


RunningKernel.execute_cell_input = _execute_cell_input
