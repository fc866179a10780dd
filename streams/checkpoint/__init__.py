"""The commit protocol: what must be durable before a source offset may be acknowledged.

- `commit` (commit.py): the one function, its steps in order and its invariants;
- `outbox`: the open batch of each source partition (observations and table changes) and
  when it closes;
- `changelog`: a table partition's changes produced in bulk, re-sent with their current values;
- `delivery`: a record produced until the broker has it (`DurableSender`), the in-flight bound
  (`Capacity`), and `Countdown` for a message acknowledged after several deliveries.

Plain code over a producer, a topic and tables given to it: nothing here imports the faust
wiring (streams.app, agents, tables, web).
"""
