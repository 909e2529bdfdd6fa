CREATE TABLE `replay_results` (
	`replay_id` text NOT NULL,
	`prediction_id` text NOT NULL,
	`ts` integer NOT NULL,
	`served_version` text NOT NULL,
	`served_label` text,
	`served_value` real,
	`candidate_label` text,
	`candidate_value` real,
	`latency_us` real,
	`status` text NOT NULL,
	`error` text,
	PRIMARY KEY(`replay_id`, `prediction_id`)
);
--> statement-breakpoint
CREATE TABLE `replays` (
	`id` text PRIMARY KEY NOT NULL,
	`model` text NOT NULL,
	`candidate` text NOT NULL,
	`since` integer NOT NULL,
	`until` integer NOT NULL,
	`limit_rows` integer,
	`max_rows_per_s` integer NOT NULL,
	`status` text NOT NULL,
	`rows_done` integer DEFAULT 0 NOT NULL,
	`total` integer,
	`report` text,
	`error` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`heartbeat_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `replays_model_created` ON `replays` (`model`,`created_at`);