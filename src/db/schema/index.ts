export * from "./installations.js";
export * from "./repositories.js";
export * from "./members.js";
export * from "./pull-requests.js";
export * from "./reviews.js";
export * from "./commits.js";
export * from "./webhook-deliveries.js";
export * from "./weekly-metrics.js";
