DROP INDEX `loras_owner_name`;--> statement-breakpoint
CREATE UNIQUE INDEX `loras_owner_name_live` ON `loras` (`owner`,`name`) WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX `loras_owner_name` ON `loras` (`owner`,`name`);--> statement-breakpoint
ALTER TABLE `blob_owners` ADD `uploaded` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `blob_owners_owner` ON `blob_owners` (`owner`,`uploaded`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `completion_pending` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_job_event` ON `webhook_deliveries` (`job_id`,`event_seq`);