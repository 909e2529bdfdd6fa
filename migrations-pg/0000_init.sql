CREATE TABLE "deployment_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"model" text NOT NULL,
	"action" text NOT NULL,
	"from_version" text,
	"to_version" text,
	"actor" text NOT NULL,
	"reason" text,
	"detail" jsonb,
	"ts" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"model" text PRIMARY KEY NOT NULL,
	"live" text NOT NULL,
	"standby" text,
	"history" jsonb NOT NULL,
	"split" jsonb,
	"source" text NOT NULL,
	"pinned" boolean NOT NULL,
	"shadow" jsonb,
	"revision" integer NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "feedback" (
	"prediction_id" text PRIMARY KEY NOT NULL,
	"label" text NOT NULL,
	"ts" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "predictions" (
	"id" text PRIMARY KEY NOT NULL,
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
	"shadow_of" text
);
--> statement-breakpoint
CREATE TABLE "rollouts" (
	"model" text PRIMARY KEY NOT NULL,
	"candidate" text NOT NULL,
	"baseline" text NOT NULL,
	"steps" jsonb NOT NULL,
	"step_index" integer NOT NULL,
	"interval_ms" bigint NOT NULL,
	"guards" jsonb NOT NULL,
	"status" text NOT NULL,
	"step_started_at" bigint NOT NULL,
	"next_evaluation_at" bigint,
	"readings" jsonb NOT NULL,
	"started_at" bigint NOT NULL,
	"finished_at" bigint,
	"outcome" text
);
--> statement-breakpoint
CREATE INDEX "deployment_events_model_id" ON "deployment_events" USING btree ("model","id");--> statement-breakpoint
CREATE INDEX "predictions_model_version_ts" ON "predictions" USING btree ("model","version","ts");--> statement-breakpoint
CREATE INDEX "predictions_model_ts" ON "predictions" USING btree ("model","ts");