-- The relay claims a row only when no earlier row of its aggregate (for the same destination) is
-- leased (crates/platform/src/outbox.rs): this index finds those earlier rows. Its columns never
-- change, so lease updates stay HOT. A plain CREATE INDEX: the outbox is a queue that the relay
-- keeps drained, so the build is short (inserts wait for it).
CREATE INDEX outbox_aggregate_seq ON outbox (aggregate_id, seq);
