-- Written by hand: the rules of a transfer, enforced by the database on every path.
-- The sender's row is locked first, so two transfers from one account check the limit in turn.
CREATE FUNCTION "transfers_apply"() RETURNS trigger LANGUAGE plpgsql AS $rowbase$
DECLARE
  spent numeric;
  day_limit numeric;
BEGIN
  SELECT "daily_limit" INTO day_limit FROM "accounts" WHERE "id" = NEW."from_account" FOR UPDATE;
  SELECT coalesce(sum("amount"), 0) INTO spent FROM "transfers"
    WHERE "from_account" = NEW."from_account" AND "id" <> NEW."id"
      AND "created_at" >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  IF spent + NEW."amount" > day_limit THEN
    RAISE EXCEPTION 'daily withdrawal limit exceeded';
  END IF;
  -- Both balances or neither: a negative balance breaks accounts_balance_check.
  UPDATE "accounts" SET "balance" = "balance" - NEW."amount" WHERE "id" = NEW."from_account";
  UPDATE "accounts" SET "balance" = "balance" + NEW."amount" WHERE "id" = NEW."to_account";
  RETURN NULL;
END
$rowbase$;
CREATE TRIGGER "transfers_apply" AFTER INSERT ON "transfers" FOR EACH ROW EXECUTE FUNCTION "transfers_apply"();

-- A transfer is a fact: it is never changed (a correction is a new transfer).
CREATE FUNCTION "transfers_immutable"() RETURNS trigger LANGUAGE plpgsql AS $rowbase$
BEGIN
  RAISE EXCEPTION 'transfers cannot be changed: record a new transfer instead';
END
$rowbase$;
CREATE TRIGGER "transfers_immutable" BEFORE UPDATE ON "transfers" FOR EACH ROW EXECUTE FUNCTION "transfers_immutable"();
