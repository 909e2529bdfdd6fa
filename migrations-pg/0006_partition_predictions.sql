-- Daily partitions of predictions (PARTITION BY RANGE on ts, one partition per UTC day,
-- created ahead by the gateway: src/db/pg/partitions.ts). Retention then drops whole
-- days instead of deleting rows. The existing table is kept as it is and attached as
-- the first partition, from the start of time to the UTC midnight after its newest row
-- (or after now): no row is copied or lost, and retention drops it once that midnight
-- is past the cutoff. An empty one (a new database) is dropped instead. A partitioned table's primary key must hold the partition key,
-- so it becomes (id, ts).
ALTER TABLE "predictions" RENAME TO "predictions_before_partitioning";--> statement-breakpoint
ALTER INDEX "predictions_model_ts" RENAME TO "predictions_before_partitioning_model_ts";--> statement-breakpoint
ALTER INDEX "predictions_shadows" RENAME TO "predictions_before_partitioning_shadows";--> statement-breakpoint
ALTER TABLE "predictions_before_partitioning" DROP CONSTRAINT "predictions_pkey";--> statement-breakpoint
ALTER TABLE "predictions_before_partitioning" ADD CONSTRAINT "predictions_before_partitioning_pk" PRIMARY KEY ("id", "ts");--> statement-breakpoint
CREATE TABLE "predictions" (
	"id" text NOT NULL,
	"ts" bigint NOT NULL,
	"model" text NOT NULL,
	"version" text NOT NULL,
	"route" text NOT NULL,
	"user_hash" text,
	"request_id" text NOT NULL,
	"input" text NOT NULL,
	"output" text,
	"label" text,
	"score" double precision,
	"latency_us" bigint NOT NULL,
	"status" text NOT NULL,
	"error" text,
	"shadow_of" text,
	"cached" boolean DEFAULT false NOT NULL,
	CONSTRAINT "predictions_id_ts_pk" PRIMARY KEY ("id", "ts")
) PARTITION BY RANGE ("ts");--> statement-breakpoint
CREATE INDEX "predictions_model_ts" ON "predictions" USING btree ("model", "ts");--> statement-breakpoint
CREATE INDEX "predictions_shadows" ON "predictions" USING btree ("model", "ts") WHERE shadow_of IS NOT NULL;--> statement-breakpoint
-- Rows outside every day partition (a clock far ahead, a day not created yet) land here:
-- no insert ever fails for want of a partition.
CREATE TABLE "predictions_default" PARTITION OF "predictions" DEFAULT;--> statement-breakpoint
DO $$
DECLARE
  day_ms constant bigint := 86400000;
  upper_bound bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM predictions_before_partitioning) THEN
    -- A new database: nothing to keep, and today's partition is created like any other.
    DROP TABLE predictions_before_partitioning;
    RETURN;
  END IF;
  SELECT (greatest(coalesce(max(ts) + 1, 0), (extract(epoch FROM now()) * 1000)::bigint) / day_ms + 1) * day_ms
    INTO upper_bound FROM predictions_before_partitioning;
  EXECUTE format(
    'ALTER TABLE predictions ATTACH PARTITION predictions_before_partitioning FOR VALUES FROM (MINVALUE) TO (%s)',
    upper_bound);
END $$;
