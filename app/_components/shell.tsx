import { cookies } from "next/headers";

// The viewer's time zone as the browser last reported it (cookie pw_tz); UTC until then or when
// the value is no zone Intl knows.
export async function viewerTimeZone(): Promise<string> {
  const tz = (await cookies()).get("pw_tz")?.value;
  if (!tz) return "UTC";
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return tz;
  } catch {
    return "UTC";
  }
}

export function SkipLink() {
  return (
    <a
      href="#main"
      className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-sm focus:shadow dark:focus:bg-slate-900"
    >
      Skip to content
    </a>
  );
}
