CREATE TABLE "replay_results" (
	"replay_id" text NOT NULL,
	"prediction_id" text NOT NULL,
	"ts" bigint NOT NULL,
	"served_version" text NOT NULL,
	"served_label" text,
	"served_value" double precision,
	"candidate_label" text,
	"candidate_value" double precision,
	"latency_us" double precision,
	"status" text NOT NULL,
	"error" text,
	CONSTRAINT "replay_results_replay_id_prediction_id_pk" PRIMARY KEY("replay_id","prediction_id")
);
--> statement-breakpoint
CREATE TABLE "replays" (
	"id" text PRIMARY KEY NOT NULL,
	"model" text NOT NULL,
	"candidate" text NOT NULL,
	"since" bigint NOT NULL,
	"until" bigint NOT NULL,
	"limit_rows" bigint,
	"max_rows_per_s" integer NOT NULL,
	"status" text NOT NULL,
	"rows_done" bigint DEFAULT 0 NOT NULL,
	"total" bigint,
	"report" jsonb,
	"error" text,
	"created_at" bigint NOT NULL,
	"started_at" bigint,
	"finished_at" bigint,
	"heartbeat_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "replays_model_created" ON "replays" USING btree ("model","created_at");