-- The HTTP status a model server answered each logged request with: 200 for a prediction (every row logged before
-- this migration was one), 4xx / 5xx for a request that failed (one row, row_index 0, no inputs or outputs).
-- Monitors compute drift and performance on the 200 rows and error rates on all of them.
-- A constant default: PostgreSQL 11+ adds the column without rewriting the table.
ALTER TABLE inference_log ADD COLUMN status INTEGER NOT NULL DEFAULT 200;
