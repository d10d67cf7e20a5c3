"""``python -m benchmarks [SCENARIO] [options]``: run one benchmark scenario (README.md describes each).

A scenario is a module with a ``main(argv)`` returning the exit status; it is registered below by name.
Without a scenario name, the options go to ``migration`` (migration 0012), the first benchmark.
"""

import sys

from . import api, cleartokens, endpoints, migration, online, replica_lag


SCENARIOS = {
    "migration": migration,
    "cleartokens": cleartokens,
    "api": api,
    "online": online,
    "endpoints": endpoints,
    "lag": replica_lag,
}
DEFAULT_SCENARIO = "migration"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in SCENARIOS:
        name, argv = argv[0], argv[1:]
    else:
        name = DEFAULT_SCENARIO
    return SCENARIOS[name].main(argv)
