DROP TRIGGER `transfers_immutable`;
DROP TRIGGER `transfers_apply`;
