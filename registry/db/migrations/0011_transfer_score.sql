ALTER TABLE `lora_versions` ADD `transfer_fidelity` real;--> statement-breakpoint
ALTER TABLE `lora_versions` ADD `transfer_samples` integer DEFAULT 0 NOT NULL;