CREATE TABLE `uploads` (
	`id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`state` text NOT NULL,
	`bytes` integer NOT NULL,
	`files` text NOT NULL,
	`time_created` integer NOT NULL,
	`time_to_expire` integer NOT NULL,
	`time_removed` integer,
	`removed_by` text
);
--> statement-breakpoint
CREATE INDEX `uploads_owner_state_idx` ON `uploads` (`owner`,`state`);--> statement-breakpoint
CREATE INDEX `uploads_state_expire_idx` ON `uploads` (`state`,`time_to_expire`);