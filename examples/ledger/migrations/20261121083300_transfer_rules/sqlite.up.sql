-- Written by hand: the rules of a transfer, enforced by the database on every path.
-- The sender's daily limit (UTC day), across both tables, before the transfer is recorded.
CREATE TRIGGER "transfers_daily_limit" BEFORE INSERT ON "transfers"
WHEN (SELECT coalesce(sum("amount"), 0) FROM "transfers"
      WHERE "from_account" = NEW."from_account" AND "created_at" >= strftime('%Y-%m-%d', 'now')) + NEW."amount"
     > (SELECT "daily_limit" FROM "accounts" WHERE "id" = NEW."from_account")
BEGIN
  SELECT RAISE(ABORT, 'daily withdrawal limit exceeded');
END;

-- The money moves with the transfer, in the same transaction: both balances or neither (a
-- balance that would go negative breaks accounts_balance_check and undoes the transfer).
CREATE TRIGGER "transfers_apply" AFTER INSERT ON "transfers"
BEGIN
  UPDATE "accounts" SET "balance" = "balance" - NEW."amount" WHERE "id" = NEW."from_account";
  UPDATE "accounts" SET "balance" = "balance" + NEW."amount" WHERE "id" = NEW."to_account";
END;

-- A transfer is a fact: it is never changed or removed (a correction is a new transfer).
CREATE TRIGGER "transfers_immutable" BEFORE UPDATE ON "transfers"
BEGIN
  SELECT RAISE(ABORT, 'transfers cannot be changed: record a new transfer instead');
END;
