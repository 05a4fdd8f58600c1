"""Project-wide pytest set-up, loaded before any test module or notebook kernel.

One BLAS thread for the tests and for the kernels nbval starts (they inherit this
environment). Stored notebook outputs must not depend on the thread count, and with two
cores a test run beside other work otherwise oversubscribes OpenBLAS's threads
(measured: 981 s instead of 197 s). ``setdefault`` leaves an explicit choice alone
(``scripts/check_repro.py`` sets its own), and nothing here touches
``OPENBLAS_CORETYPE`` or ``OPENBLAS_L2_SIZE``, which some machines preset. This file
sits at the project root so that ``pytest``, ``pytest tests`` and ``pytest chapters``
all load it before numpy is imported.
"""

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
