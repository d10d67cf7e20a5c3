"""Timing requests in a benchmark child, for ``bench_api.py`` and ``bench_endpoints.py``.

Plain Django only: like every module here it runs in our venv and in the upstream releases' venvs.
"""

import time


def timed_requests(request, requests):
    """Call ``request()`` ``requests`` times: the response statuses seen, the wall and CPU seconds of this
    process, and the SQL statements Django sent through the default connection's cursors."""
    from django.db import connection

    statements = 0

    def count_statement(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    statuses = set()
    with connection.execute_wrapper(count_statement):
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(requests):
            statuses.add(request().status_code)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "statuses": sorted(statuses),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "queries": statements,
    }
