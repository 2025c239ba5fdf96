DROP TRIGGER "transfers_immutable" ON "transfers";
DROP FUNCTION "transfers_immutable"();
DROP TRIGGER "transfers_apply" ON "transfers";
DROP FUNCTION "transfers_apply"();
