CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`prefix` text NOT NULL,
	`hash` text NOT NULL,
	`owner` text NOT NULL,
	`name` text NOT NULL,
	`scopes` text NOT NULL,
	`rate_limit_per_minute` integer NOT NULL,
	`webhook_secret` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash` ON `api_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `api_keys_owner` ON `api_keys` (`owner`);--> statement-breakpoint
CREATE TABLE `blob_owners` (
	`sha256` text NOT NULL,
	`owner` text NOT NULL,
	PRIMARY KEY(`sha256`, `owner`),
	FOREIGN KEY (`sha256`) REFERENCES `blobs`(`sha256`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `blobs` (
	`sha256` text PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`kind` text NOT NULL,
	`content_type` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `job_events` (
	`job_id` text NOT NULL,
	`seq` integer NOT NULL,
	`type` text NOT NULL,
	`data` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`job_id`, `seq`),
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`input` text NOT NULL,
	`resolved_loras` text NOT NULL,
	`result` text,
	`error` text,
	`idempotency_key` text,
	`request_hash` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`max_attempts` integer NOT NULL,
	`runner_id` text,
	`lease_token` text,
	`lease_expires_at` integer,
	`progress` real DEFAULT 0 NOT NULL,
	`stage` text,
	`version_id` text,
	`event_seq` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_owner_idempotency` ON `jobs` (`owner`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `jobs_queue` ON `jobs` (`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_owner` ON `jobs` (`owner`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `lora_versions` (
	`id` text PRIMARY KEY NOT NULL,
	`lora_id` text NOT NULL,
	`version` integer NOT NULL,
	`file_sha256` text NOT NULL,
	`file_size` integer NOT NULL,
	`preview_sha256` text,
	`reference_video_sha256` text,
	`base_model_id` text NOT NULL,
	`base_model_sha256` text NOT NULL,
	`rank` integer NOT NULL,
	`alpha` real NOT NULL,
	`stage` text NOT NULL,
	`target_heads` text NOT NULL,
	`tuning_config` text NOT NULL,
	`metadata` text NOT NULL,
	`notes` text NOT NULL,
	`downloads` integer DEFAULT 0 NOT NULL,
	`job_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`lora_id`) REFERENCES `loras`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`file_sha256`) REFERENCES `blobs`(`sha256`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`preview_sha256`) REFERENCES `blobs`(`sha256`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`reference_video_sha256`) REFERENCES `blobs`(`sha256`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lora_versions_lora_version` ON `lora_versions` (`lora_id`,`version`);--> statement-breakpoint
CREATE UNIQUE INDEX `lora_versions_job` ON `lora_versions` (`job_id`);--> statement-breakpoint
CREATE INDEX `lora_versions_base_model` ON `lora_versions` (`base_model_id`,`lora_id`);--> statement-breakpoint
CREATE INDEX `lora_versions_file` ON `lora_versions` (`file_sha256`);--> statement-breakpoint
CREATE TABLE `loras` (
	`id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`name` text NOT NULL,
	`title` text NOT NULL,
	`description` text NOT NULL,
	`category` text NOT NULL,
	`tags` text NOT NULL,
	`search_text` text NOT NULL,
	`license` text NOT NULL,
	`visibility` text NOT NULL,
	`downloads` integer DEFAULT 0 NOT NULL,
	`latest_version` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `loras_owner_name` ON `loras` (`owner`,`name`);--> statement-breakpoint
CREATE INDEX `loras_newest` ON `loras` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `loras_downloads` ON `loras` (`downloads`,`id`);