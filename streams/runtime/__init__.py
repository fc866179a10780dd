"""Every use of faust's, aiokafka's, rocksdict's and asyncpraw's private attributes, in one place.

The rest of the project calls these small named functions and classes; none of it touches a
private attribute of a dependency. The versions they were verified against are pinned
(streams.runtime.versions, requirements.lock) and checked at start-up, and each private
attribute has a contract test (tests/unit/test_runtime_contract.py), so an upgrade fails in CI.

- application: the App class (autodiscovery that fails loudly, the consumer below) and the
  aiokafka producer under faust's;
- consumer: `OrderedConsumer` (no offsets skipped after a rebalance) and what the watchdogs,
  metrics and debug views read of the consumer;
- fetch_loop: faust's fetch loop with eager delivery;
- store: a table partition's RocksDB database, and the store that discards a partition ahead
  of its changelog;
- reddit: asyncpraw without its own retries and rate limiter;
- recovery: what faust's table recovery says: recovered, and how far the standby copies lag;
- versions: the verified versions and the start-up check.
"""
