CREATE TABLE "weekly_metrics_pending" (
	"installation_id" bigint NOT NULL,
	"week_start" date NOT NULL,
	CONSTRAINT "weekly_metrics_pending_installation_id_week_start_pk" PRIMARY KEY("installation_id","week_start")
);
