"""The interpreter: workflow model, loading and validation, expressions, registry, runner, store.

Log records go to the ``orderhub`` logger tree; the library adds no output of its own (the
CLI shows warnings itself).
"""

import logging

logging.getLogger("orderhub").addHandler(logging.NullHandler())
