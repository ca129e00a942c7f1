CREATE INDEX `jobs_owner_status` ON `jobs` (`owner`,`status`);--> statement-breakpoint
CREATE INDEX `jobs_owner_started` ON `jobs` (`owner`,`started_at`);