CREATE TABLE `rollouts` (
	`model` text PRIMARY KEY NOT NULL,
	`candidate` text NOT NULL,
	`baseline` text NOT NULL,
	`steps` text NOT NULL,
	`step_index` integer NOT NULL,
	`interval_ms` integer NOT NULL,
	`guards` text NOT NULL,
	`status` text NOT NULL,
	`step_started_at` integer NOT NULL,
	`next_evaluation_at` integer,
	`readings` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`outcome` text
);
