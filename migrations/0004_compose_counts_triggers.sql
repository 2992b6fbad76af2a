-- Counts behind `meta.total` (schema.ts composeCounts), kept by triggers so
-- every write to `composes`, from any code path, updates them atomically.
-- Keys are text: the state and source type codes, the owner name.
CREATE TRIGGER `composes_counts_insert` AFTER INSERT ON `composes` BEGIN
  INSERT INTO `compose_counts` (`kind`, `key`, `n`) VALUES
    ('all', '', 1),
    ('state', CAST(NEW.`state` AS TEXT), 1),
    ('owner', NEW.`owner`, 1),
    ('source_type', CAST(NEW.`source_type` AS TEXT), 1)
  ON CONFLICT (`kind`, `key`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `composes_counts_delete` AFTER DELETE ON `composes` BEGIN
  UPDATE `compose_counts` SET `n` = `n` - 1
   WHERE (`kind` = 'all' AND `key` = '')
      OR (`kind` = 'state' AND `key` = CAST(OLD.`state` AS TEXT))
      OR (`kind` = 'owner' AND `key` = OLD.`owner`)
      OR (`kind` = 'source_type' AND `key` = CAST(OLD.`source_type` AS TEXT));
END;
--> statement-breakpoint
CREATE TRIGGER `composes_counts_update_state` AFTER UPDATE OF `state` ON `composes`
WHEN OLD.`state` IS NOT NEW.`state` BEGIN
  UPDATE `compose_counts` SET `n` = `n` - 1 WHERE `kind` = 'state' AND `key` = CAST(OLD.`state` AS TEXT);
  INSERT INTO `compose_counts` (`kind`, `key`, `n`) VALUES ('state', CAST(NEW.`state` AS TEXT), 1)
  ON CONFLICT (`kind`, `key`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `composes_counts_update_owner` AFTER UPDATE OF `owner` ON `composes`
WHEN OLD.`owner` IS NOT NEW.`owner` BEGIN
  UPDATE `compose_counts` SET `n` = `n` - 1 WHERE `kind` = 'owner' AND `key` = OLD.`owner`;
  INSERT INTO `compose_counts` (`kind`, `key`, `n`) VALUES ('owner', NEW.`owner`, 1)
  ON CONFLICT (`kind`, `key`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `composes_counts_update_source_type` AFTER UPDATE OF `source_type` ON `composes`
WHEN OLD.`source_type` IS NOT NEW.`source_type` BEGIN
  UPDATE `compose_counts` SET `n` = `n` - 1 WHERE `kind` = 'source_type' AND `key` = CAST(OLD.`source_type` AS TEXT);
  INSERT INTO `compose_counts` (`kind`, `key`, `n`) VALUES ('source_type', CAST(NEW.`source_type` AS TEXT), 1)
  ON CONFLICT (`kind`, `key`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
-- A database with composes already in it starts with exact counts.
INSERT INTO `compose_counts` (`kind`, `key`, `n`)
  SELECT 'all', '', count(*) FROM `composes`
  UNION ALL SELECT 'state', CAST(`state` AS TEXT), count(*) FROM `composes` GROUP BY `state`
  UNION ALL SELECT 'owner', `owner`, count(*) FROM `composes` GROUP BY `owner`
  UNION ALL SELECT 'source_type', CAST(`source_type` AS TEXT), count(*) FROM `composes` GROUP BY `source_type`;
