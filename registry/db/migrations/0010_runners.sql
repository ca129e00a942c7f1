CREATE TABLE `runners` (
	`id` text PRIMARY KEY NOT NULL,
	`polling_until` integer NOT NULL
);
