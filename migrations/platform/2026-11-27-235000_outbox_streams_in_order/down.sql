DROP INDEX outbox_aggregate_seq;
