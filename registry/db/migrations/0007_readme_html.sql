ALTER TABLE `loras` ADD `readme_html` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `loras` ADD `readme_renderer` integer DEFAULT 0 NOT NULL;