ALTER TABLE `lora_versions` ADD `idempotency_key` text;--> statement-breakpoint
ALTER TABLE `lora_versions` ADD `request_hash` text;--> statement-breakpoint
CREATE UNIQUE INDEX `lora_versions_idempotency` ON `lora_versions` (`lora_id`,`idempotency_key`);