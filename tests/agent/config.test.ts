import { describe, expect, it } from "vitest";
import { ConfigError, hostArch, parseConfig } from "@/agent/config";

const base = [
  "--url",
  "https://pw.example.com",
  "--token",
  "pwh_x",
  "--host",
  "host-a17",
  "--spool-dir",
  "/var/lib/pw",
  "--qmp-dir",
  "/run/pw/qmp",
];

describe("agent configuration", () => {
  it("flags, or the environment when a flag is absent", () => {
    const c = parseConfig(
      [
        "--spool-dir",
        "/s",
        "--intake",
        "/run/i.sock",
        "--metrics-port",
        "127.0.0.1:9464",
        "--arch",
        "arm64",
      ],
      {
        POISONWATCH_URL: "http://svc:3000",
        POISONWATCH_HOST_TOKEN: "pwh_env",
        POISONWATCH_HOST_ID: "h1",
      },
    );
    expect(c).toMatchObject({
      url: "http://svc:3000",
      token: "pwh_env",
      hostId: "h1",
      arch: "arm64",
      intakePath: "/run/i.sock",
      metricsListen: { host: "127.0.0.1", port: 9464 },
      gzip: true,
      lingerMs: 0,
    });
    expect(
      parseConfig([...base, "--token", "pwh_flag"], {
        POISONWATCH_HOST_TOKEN: "pwh_env",
      }),
    ).toMatchObject({ token: "pwh_flag" });
  });

  it("the arch defaults to the host's own", () => {
    expect(hostArch("x64")).toBe("x86_64");
    expect(hostArch("arm64")).toBe("arm64");
    expect(hostArch("riscv64")).toBeNull();
    expect(parseConfig(base, {})).toMatchObject({ arch: hostArch() });
  });

  it.each([
    [["--url", "https://x"], /--token .* is required/],
    [[...base, "--url", "ftp://x"], /--url must be an http\(s\) URL/],
    [[...base, "--host", "bad host"], /--host must match/],
    [[...base, "--arch", "mips"], /--arch must be arm64 or x86_64/],
    [
      [...base, "--metrics-port", "nine"],
      /--metrics-port must be PORT or HOST:PORT/,
    ],
    [
      [...base, "--linger-ms", "5000"],
      /--linger-ms must be a whole number from 0 to 1000/,
    ],
    [[...base, "--gzip", "maybe"], /--gzip must be on or off/],
    [[...base, "--frobnicate"], /Unknown option/],
    [
      base.filter((a) => a !== "--qmp-dir" && a !== "/run/pw/qmp"),
      /give --qmp-dir, --intake or both/,
    ],
  ])("refuses %j with a clear message", (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseConfig(argv, {})).toThrow(message);
  });
});
