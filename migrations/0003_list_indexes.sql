CREATE TABLE `compose_counts` (
	`kind` text NOT NULL,
	`key` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`kind`, `key`)
);
--> statement-breakpoint
CREATE INDEX `composes_state_idx` ON `composes` (`state`);--> statement-breakpoint
CREATE INDEX `composes_owner_state_idx` ON `composes` (`owner`,`state`);--> statement-breakpoint
CREATE INDEX `composes_state_source_type_idx` ON `composes` (`state`,`source_type`);--> statement-breakpoint
CREATE INDEX `composes_source_type_idx` ON `composes` (`source_type`);--> statement-breakpoint
CREATE INDEX `composes_source_idx` ON `composes` (`source`);--> statement-breakpoint
CREATE INDEX `composes_label_idx` ON `composes` (`label`) WHERE label IS NOT NULL;--> statement-breakpoint
CREATE INDEX `composes_koji_task_id_idx` ON `composes` (`koji_task_id`) WHERE koji_task_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX `composes_pungi_compose_id_idx` ON `composes` (`pungi_compose_id`) WHERE pungi_compose_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX `composes_compose_type_idx` ON `composes` (`compose_type`) WHERE compose_type IS NOT NULL;--> statement-breakpoint
CREATE INDEX `composes_koji_event_idx` ON `composes` (`koji_event`);--> statement-breakpoint
CREATE INDEX `composes_time_to_expire_idx` ON `composes` (`time_to_expire`);--> statement-breakpoint
CREATE INDEX `composes_time_submitted_idx` ON `composes` (`time_submitted`);--> statement-breakpoint
CREATE INDEX `composes_time_done_idx` ON `composes` (`time_done`);--> statement-breakpoint
CREATE INDEX `composes_time_removed_idx` ON `composes` (`time_removed`);--> statement-breakpoint
CREATE INDEX `jobs_finished_idx` ON `jobs` (`state`,`updated_at`);