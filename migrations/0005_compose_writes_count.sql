-- The number of writes to `composes` ever made, as the `compose_counts` row
-- ('writes', ''): every insert, update and delete adds one, in the same
-- transaction, whatever code path makes it. A list page read under one value
-- is the same page while the value stays (src/api/list-cache.ts).
INSERT INTO `compose_counts` (`kind`, `key`, `n`)
SELECT 'writes', '', COALESCE((SELECT MAX(`id`) FROM `composes`), 0)
ON CONFLICT (`kind`, `key`) DO NOTHING;
--> statement-breakpoint
CREATE TRIGGER `composes_writes_insert` AFTER INSERT ON `composes` BEGIN
  INSERT INTO `compose_counts` (`kind`, `key`, `n`) VALUES ('writes', '', 1)
  ON CONFLICT (`kind`, `key`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `composes_writes_update` AFTER UPDATE ON `composes` BEGIN
  INSERT INTO `compose_counts` (`kind`, `key`, `n`) VALUES ('writes', '', 1)
  ON CONFLICT (`kind`, `key`) DO UPDATE SET `n` = `n` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `composes_writes_delete` AFTER DELETE ON `composes` BEGIN
  INSERT INTO `compose_counts` (`kind`, `key`, `n`) VALUES ('writes', '', 1)
  ON CONFLICT (`kind`, `key`) DO UPDATE SET `n` = `n` + 1;
END;
