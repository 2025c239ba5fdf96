DROP TRIGGER "transfers_immutable";
DROP TRIGGER "transfers_apply";
DROP TRIGGER "transfers_daily_limit";
