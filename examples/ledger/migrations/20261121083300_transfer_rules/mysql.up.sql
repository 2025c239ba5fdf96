-- Written by hand: the rules of a transfer, enforced by the database on every path.
-- The sender's row is locked first, so two transfers from one account check the limit in turn.
CREATE TRIGGER `transfers_apply` AFTER INSERT ON `transfers` FOR EACH ROW
BEGIN
  DECLARE spent DECIMAL(14,2);
  DECLARE day_limit DECIMAL(12,2);
  SELECT `daily_limit` INTO day_limit FROM `accounts` WHERE `id` = NEW.`from_account` FOR UPDATE;
  SELECT COALESCE(SUM(`amount`), 0) INTO spent FROM `transfers`
    WHERE `from_account` = NEW.`from_account` AND `id` <> NEW.`id` AND `created_at` >= CURRENT_DATE;
  IF spent + NEW.`amount` > day_limit THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'daily withdrawal limit exceeded';
  END IF;
  -- Both balances or neither: a negative balance breaks accounts_balance_check.
  UPDATE `accounts` SET `balance` = `balance` - NEW.`amount` WHERE `id` = NEW.`from_account`;
  UPDATE `accounts` SET `balance` = `balance` + NEW.`amount` WHERE `id` = NEW.`to_account`;
END;

-- A transfer is a fact: it is never changed (a correction is a new transfer).
CREATE TRIGGER `transfers_immutable` BEFORE UPDATE ON `transfers` FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'transfers cannot be changed: record a new transfer instead';
