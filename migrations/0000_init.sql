CREATE TABLE `compose_rpms` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`compose_id` integer NOT NULL,
	`tree_arch` text NOT NULL,
	`name` text NOT NULL,
	`epoch` text NOT NULL,
	`version` text NOT NULL,
	`release` text NOT NULL,
	`arch` text NOT NULL,
	`sigkey` text,
	`checksum_type` text NOT NULL,
	`checksum` text NOT NULL,
	`source_repo` text NOT NULL,
	`location` text NOT NULL,
	`path` text NOT NULL,
	FOREIGN KEY (`compose_id`) REFERENCES `composes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `compose_rpms_compose_idx` ON `compose_rpms` (`compose_id`);--> statement-breakpoint
CREATE TABLE `composes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`owner` text NOT NULL,
	`source_type` integer NOT NULL,
	`source` text NOT NULL,
	`state` integer NOT NULL,
	`state_reason` text,
	`time_submitted` integer NOT NULL,
	`time_to_expire` integer NOT NULL,
	`time_started` integer,
	`time_done` integer,
	`time_removed` integer,
	`removed_by` text,
	`koji_event` integer,
	`koji_task_id` integer,
	`packages` text,
	`builds` text,
	`sigkeys` text DEFAULT '' NOT NULL,
	`arches` text NOT NULL,
	`multilib_arches` text DEFAULT '' NOT NULL,
	`multilib_method` integer DEFAULT 0 NOT NULL,
	`lookaside_repos` text,
	`modular_koji_tags` text,
	`module_defaults_url` text,
	`label` text,
	`compose_type` text,
	`pungi_compose_id` text,
	`target_dir` text DEFAULT 'default' NOT NULL,
	`scratch_modules` text,
	`parent_pungi_compose_ids` text,
	`scratch_build_tasks` text,
	`modules` text,
	`respin_of` text,
	`base_module_br_name` text,
	`base_module_br_stream` text,
	`base_module_br_stream_version_lte` integer,
	`base_module_br_stream_version_gte` integer,
	`pungi_config_dump` text,
	`flags` integer DEFAULT 0 NOT NULL,
	`results` integer DEFAULT 1 NOT NULL,
	`reused_id` integer,
	`regenerate_of` integer
);
--> statement-breakpoint
CREATE INDEX `composes_state_expire_idx` ON `composes` (`state`,`time_to_expire`);--> statement-breakpoint
CREATE INDEX `composes_owner_idx` ON `composes` (`owner`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`compose_id` integer NOT NULL,
	`from_state` integer,
	`to_state` integer NOT NULL,
	`state_reason` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`compose_id`) REFERENCES `composes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `events_compose_idx` ON `events` (`compose_id`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`compose_id` integer NOT NULL,
	`kind` text NOT NULL,
	`state` text NOT NULL,
	`run_at` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`max_attempts` integer NOT NULL,
	`locked_by` text,
	`lease_until` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`compose_id`) REFERENCES `composes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `jobs_claim_idx` ON `jobs` (`state`,`run_at`);--> statement-breakpoint
CREATE INDEX `jobs_lease_idx` ON `jobs` (`state`,`lease_until`);--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_one_queued_idx` ON `jobs` (`kind`,`compose_id`) WHERE state = 'queued';