PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_feedback` (
	`prediction_id` text PRIMARY KEY NOT NULL,
	`label` text,
	`value` real,
	`ts` integer NOT NULL,
	CONSTRAINT "feedback_label_or_value" CHECK(label IS NOT NULL OR value IS NOT NULL)
);
--> statement-breakpoint
-- Hand-edited: drizzle-kit selected "value", which the old table lacks and SQLite then reads as the string 'value'.
INSERT INTO `__new_feedback`("prediction_id", "label", "value", "ts") SELECT "prediction_id", "label", NULL, "ts" FROM `feedback`;--> statement-breakpoint
DROP TABLE `feedback`;--> statement-breakpoint
ALTER TABLE `__new_feedback` RENAME TO `feedback`;--> statement-breakpoint
PRAGMA foreign_keys=ON;