ALTER TABLE `composes` ADD `source_pins` text;--> statement-breakpoint
CREATE INDEX `composes_reuse_idx` ON `composes` (`source_type`,`source`);--> statement-breakpoint
CREATE INDEX `composes_reused_id_idx` ON `composes` (`reused_id`);