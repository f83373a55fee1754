import type { WorkingTime } from "../../metrics/working-hours.js";

const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** ISO weekdays as a person writes them: runs of three or more as "Mon–Fri", the rest listed. */
export function describeWorkDays(days: readonly number[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const day of sorted) {
    const run = runs.at(-1);
    if (run && run.at(-1) === day - 1) run.push(day);
    else runs.push([day]);
  }
  return runs
    .flatMap((run) =>
      run.length >= 3
        ? [`${DAY_NAMES[run[0]! - 1]}–${DAY_NAMES[run.at(-1)! - 1]}`]
        : run.map((day) => DAY_NAMES[day - 1]!),
    )
    .join(", ");
}

/** "Mon–Fri 09:00–18:00 Europe/Berlin, excluding 3 holidays": the working time in one line. */
export function describeWorkingTime(time: WorkingTime): string {
  const count = time.holidays.length;
  const holidays = count === 0 ? "" : `, excluding ${count} ${count === 1 ? "holiday" : "holidays"}`;
  return `${describeWorkDays(time.workDays)} ${time.workStart}–${time.workEnd} ${time.timezone}${holidays}`;
}

/** The definition the metrics page prints beside durations in working hours. */
export function workingHoursDefinition(time: WorkingTime): string {
  return `Working hours: ${describeWorkingTime(time)}; a duration counts only the time inside those hours.`;
}
