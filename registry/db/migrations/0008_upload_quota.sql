CREATE TABLE `blob_uploads` (
	`id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`sha256` text NOT NULL,
	`bytes` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `blob_uploads_owner` ON `blob_uploads` (`owner`,`expires_at`);--> statement-breakpoint
CREATE INDEX `blob_uploads_sha256` ON `blob_uploads` (`sha256`);--> statement-breakpoint
ALTER TABLE `blob_owners` ADD `kind` text;--> statement-breakpoint
ALTER TABLE `blob_owners` ADD `at` integer;