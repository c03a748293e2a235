"""The side-by-side client benchmark: httpwire against the clients users pick, and two floors.

Layout (each module opens with its own strategy):

* ``_common``: the workloads, the contenders and the measurement spec handed to a worker;
* ``_server``: nginx (or a canned-response server) in processes of their own, plus the
  canned server that reads upload bodies;
* ``_floor``: the raw ``asyncio.Protocol`` per-request floor and the bulk-transfer floor;
* ``_adapter`` and one module per client library: each library's idiomatic pooled async API
  behind one small interface;
* ``_worker``: one measurement of one contender in a fresh process;
* ``_main``: the orchestration (rounds, alternation, failures) and the report.

Run it with ``python bench/run_clients.py --help``.
"""
