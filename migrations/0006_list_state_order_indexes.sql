CREATE INDEX `composes_state_owner_idx` ON `composes` (`state`,`owner`);--> statement-breakpoint
CREATE INDEX `composes_state_koji_event_idx` ON `composes` (`state`,`koji_event`);--> statement-breakpoint
CREATE INDEX `composes_state_time_submitted_idx` ON `composes` (`state`,`time_submitted`);--> statement-breakpoint
CREATE INDEX `composes_state_time_done_idx` ON `composes` (`state`,`time_done`);--> statement-breakpoint
CREATE INDEX `composes_state_time_removed_idx` ON `composes` (`state`,`time_removed`);