CREATE TABLE `deployment_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`model` text NOT NULL,
	`action` text NOT NULL,
	`from_version` text,
	`to_version` text,
	`actor` text NOT NULL,
	`reason` text,
	`detail` text,
	`ts` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deployment_events_model_id` ON `deployment_events` (`model`,`id`);--> statement-breakpoint
CREATE TABLE `deployments` (
	`model` text PRIMARY KEY NOT NULL,
	`live` text NOT NULL,
	`standby` text,
	`history` text NOT NULL,
	`split` text,
	`source` text NOT NULL,
	`pinned` integer NOT NULL,
	`shadow` text,
	`revision` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `feedback` (
	`prediction_id` text PRIMARY KEY NOT NULL,
	`label` text NOT NULL,
	`ts` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `predictions` (
	`id` text PRIMARY KEY NOT NULL,
	`ts` integer NOT NULL,
	`model` text NOT NULL,
	`version` text NOT NULL,
	`route` text NOT NULL,
	`user_hash` text,
	`request_id` text NOT NULL,
	`input` text NOT NULL,
	`output` text,
	`label` text,
	`score` real,
	`latency_us` integer NOT NULL,
	`status` text NOT NULL,
	`error` text,
	`shadow_of` text
);
--> statement-breakpoint
CREATE INDEX `predictions_model_version_ts` ON `predictions` (`model`,`version`,`ts`);--> statement-breakpoint
CREATE INDEX `predictions_model_ts` ON `predictions` (`model`,`ts`);--> statement-breakpoint
CREATE INDEX `predictions_shadow_of` ON `predictions` (`shadow_of`);