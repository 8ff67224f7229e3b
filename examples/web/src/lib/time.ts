const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const absolute = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

/** "just now", "3 minutes ago", "yesterday": how long ago an ISO time was. */
export function timeAgo(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (seconds > -45) return "just now";
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ["minute", 60],
    ["hour", 3600],
    ["day", 86400],
  ];
  let [unit, size] = steps[0];
  for (const step of steps) if (-seconds >= step[1]) [unit, size] = step;
  return relative.format(Math.round(seconds / size), unit);
}

export function formatTime(iso: string): string {
  return absolute.format(new Date(iso));
}
