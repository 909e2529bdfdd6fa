CREATE TABLE `latency_rollup` (
	`model` text NOT NULL,
	`version` text NOT NULL,
	`minute` integer NOT NULL,
	`bucket` integer NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`model`, `version`, `minute`, `bucket`)
);
--> statement-breakpoint
DROP INDEX `predictions_model_version_ts`;--> statement-breakpoint
DROP INDEX `predictions_model_ts`;--> statement-breakpoint
CREATE INDEX `predictions_compare` ON `predictions` (`model`,`version`,`status`,`label`,`route`,`ts`,`shadow_of`);--> statement-breakpoint
CREATE INDEX `predictions_shadows` ON `predictions` (`model`,`ts`) WHERE shadow_of IS NOT NULL;--> statement-breakpoint
CREATE INDEX `predictions_model_ts` ON `predictions` (`model`,`ts`,`version`,`status`,`shadow_of`,`latency_us`);--> statement-breakpoint
-- Backfill from rows logged before this migration (same formula as statistics.ts latencyBucketOf).
INSERT INTO `latency_rollup` (`model`, `version`, `minute`, `bucket`, `count`)
SELECT `model`, `version`, `ts` / 60000, CAST(ROUND(log2(max(`latency_us`, 1)) * 32) AS INTEGER), count(*)
FROM `predictions` WHERE `status` = 'ok' AND `shadow_of` IS NULL GROUP BY 1, 2, 3, 4;
