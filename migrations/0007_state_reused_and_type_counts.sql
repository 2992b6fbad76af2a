CREATE INDEX `composes_state_reused_id_idx` ON `composes` (`state`,`reused_id`);--> statement-breakpoint
-- Composes per (state, source type), the `composes_total` gauge of
-- /api/1/metrics/: key '<state>/<source_type>' in compose_counts, kept by
-- triggers like the other counts (0004), filled once here from the table.
INSERT INTO `compose_counts` (`kind`, `key`, `n`)
SELECT 'state_source_type', CAST(`state` AS TEXT) || '/' || CAST(`source_type` AS TEXT), count(*)
FROM `composes` GROUP BY `state`, `source_type`
ON CONFLICT (`kind`, `key`) DO UPDATE SET `n` = excluded.`n`;
--> statement-breakpoint
CREATE TRIGGER `composes_counts_state_type_insert` AFTER INSERT ON `composes` BEGIN
  INSERT INTO `compose_counts` (`kind`, `key`, `n`)
  VALUES ('state_source_type', CAST(NEW.`state` AS TEXT) || '/' || CAST(NEW.`source_type` AS TEXT), 1)
  ON CONFLICT (`kind`, `key`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `composes_counts_state_type_delete` AFTER DELETE ON `composes` BEGIN
  UPDATE `compose_counts` SET `n` = `n` - 1
   WHERE `kind` = 'state_source_type'
     AND `key` = CAST(OLD.`state` AS TEXT) || '/' || CAST(OLD.`source_type` AS TEXT);
END;
--> statement-breakpoint
CREATE TRIGGER `composes_counts_state_type_update` AFTER UPDATE OF `state`, `source_type` ON `composes`
WHEN OLD.`state` IS NOT NEW.`state` OR OLD.`source_type` IS NOT NEW.`source_type` BEGIN
  UPDATE `compose_counts` SET `n` = `n` - 1
   WHERE `kind` = 'state_source_type'
     AND `key` = CAST(OLD.`state` AS TEXT) || '/' || CAST(OLD.`source_type` AS TEXT);
  INSERT INTO `compose_counts` (`kind`, `key`, `n`)
  VALUES ('state_source_type', CAST(NEW.`state` AS TEXT) || '/' || CAST(NEW.`source_type` AS TEXT), 1)
  ON CONFLICT (`kind`, `key`) DO UPDATE SET `n` = `n` + 1;
END;
