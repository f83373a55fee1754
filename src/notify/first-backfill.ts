import nodemailer from "nodemailer";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { Db } from "../db/client.js";
import { claimFirstBackfillNotice } from "../db/queries/installations.js";
import { backfillTotals, countUnfinishedRepositories } from "../db/queries/repositories.js";

/**
 * Once every tracked repository of an installation has finished its first backfill, tell the
 * admins: by email when SMTP is configured, else in the log. The flag is claimed atomically, so
 * concurrent jobs on several replicas send one message.
 */
export async function notifyIfFirstBackfillComplete(
  db: Db,
  config: Pick<Config, "smtpUrl" | "notifyEmailFrom" | "notifyEmailTo">,
  installationId: number,
  log: Logger,
): Promise<boolean> {
  if ((await countUnfinishedRepositories(db, installationId)) > 0) return false;
  const claimed = await claimFirstBackfillNotice(db, installationId);
  if (!claimed) return false;

  const totals = await backfillTotals(db, installationId);
  const subject = `PR Pulse: history of ${claimed.account} is in`;
  const text = `The first backfill of ${claimed.account} is complete: ${totals.prs} pull requests from ${totals.repos} repositories. Metrics are up to date and stay live from now on.`;
  if (config.smtpUrl && config.notifyEmailTo.length > 0) {
    try {
      await nodemailer.createTransport(config.smtpUrl).sendMail({
        from: config.notifyEmailFrom,
        to: config.notifyEmailTo,
        subject,
        text,
      });
      log.info(
        { installationId, recipients: config.notifyEmailTo.length },
        "first backfill notification sent",
      );
    } catch (error) {
      // The sync succeeded; a mail outage must not fail it or resend on retry.
      log.error({ installationId, err: error, code: "notify_failed" }, "first backfill notification failed");
    }
  } else {
    log.info({ installationId, account: claimed.account, prs: totals.prs, repos: totals.repos }, text);
  }
  return true;
}
