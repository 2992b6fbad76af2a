-- A compose chooses its published tree only in the commit that settles it
-- (done or failed). Regenerating copies made before this release took the
-- old compose's choice with them (src/domain/renew.ts): a copy still
-- waiting or generating has chosen nothing.
UPDATE `composes` SET `published_attempt` = NULL WHERE `state` IN (0, 1) AND `published_attempt` IS NOT NULL;
