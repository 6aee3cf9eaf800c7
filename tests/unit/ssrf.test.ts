import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPublicAddress, validateWebhookUrl } from "@/server/notify/ssrf.mjs";

const nonPublic = [
  // IPv4
  "0.0.0.0",
  "0.1.2.3",
  "10.0.0.1",
  "10.255.255.255",
  "100.64.0.1",
  "100.127.255.254",
  "127.0.0.1",
  "127.255.255.254",
  "169.254.169.254",
  "172.16.0.1",
  "172.31.255.255",
  "192.0.0.8",
  "192.0.2.10",
  "192.88.99.1",
  "192.168.1.1",
  "198.18.0.1",
  "198.19.255.255",
  "198.51.100.7",
  "203.0.113.9",
  "224.0.0.1",
  "239.255.255.250",
  "240.0.0.1",
  "255.255.255.255",
  // IPv6
  "::",
  "::1",
  "0:0:0:0:0:0:0:1",
  "::ffff:127.0.0.1",
  "::ffff:7f00:1",
  "::ffff:10.1.2.3",
  "::ffff:169.254.169.254",
  "::127.0.0.1",
  "::8.8.8.8",
  "::ffff:0:8.8.8.8",
  "64:ff9b::127.0.0.1",
  "64:ff9b::a00:1",
  "64:ff9b:1::8.8.8.8",
  "100::1",
  "2001::1",
  "2001:0:4136:e378:8000:63bf:3fff:fdd2",
  "2001:2::1",
  "2001:db8::1",
  "2001:db8:ffff::1",
  "3fff::1",
  "3fff:fff::1",
  "2002:7f00:1::1",
  "2002:a00:1::",
  "2002:c0a8:101::1",
  "fc00::1",
  "fd12:3456:789a::1",
  "fe80::1",
  "fe80::1%eth0",
  "febf::1",
  "fec0::1",
  "ff02::1",
  "ff0e::1",
  "5f00::1",
  // not an address at all
  "",
  "localhost",
  "example.com",
  "[::1]",
  "127.1",
  "2130706433",
  "0x7f000001",
  "1.2.3.4.5",
  "256.1.1.1",
];

const publicAddresses = [
  "1.1.1.1",
  "8.8.8.8",
  "9.255.255.255",
  "11.0.0.0",
  "100.63.255.255",
  "100.128.0.0",
  "126.255.255.255",
  "128.0.0.0",
  "169.253.255.255",
  "172.15.255.255",
  "172.32.0.0",
  "192.0.3.1",
  "192.167.255.255",
  "192.169.0.0",
  "198.17.255.255",
  "198.20.0.0",
  "223.255.255.255",
  "2606:4700:4700::1111",
  "2001:4860:4860::8888",
  "2001:200::1",
  "2a00:1450:4001:80b::200e",
  "3fff:1000::1",
  "::ffff:8.8.8.8",
  "::ffff:808:808",
  "64:ff9b::8.8.8.8",
  "64:ff9b::101:101",
  "2002:808:808::1",
];

describe("isPublicAddress", () => {
  it.each(nonPublic)("refuses %j", (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(publicAddresses)("accepts %j", (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  it("judges IPv4-mapped, NAT64 and 6to4 forms by their embedded IPv4", () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const [a = 0, b = 0, c = 0, d = 0] = v4.split(".").map(Number);
        const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
        const expected = isPublicAddress(v4);
        expect(isPublicAddress(`::ffff:${v4}`)).toBe(expected);
        expect(isPublicAddress(`::ffff:${hex(a, b)}:${hex(c, d)}`)).toBe(
          expected,
        );
        expect(isPublicAddress(`64:ff9b::${v4}`)).toBe(expected);
        expect(isPublicAddress(`2002:${hex(a, b)}:${hex(c, d)}::1`)).toBe(
          expected,
        );
      }),
    );
  });

  it("never accepts anything in the private IPv4 blocks", () => {
    const inBlock = (prefix: number[], bits: number) =>
      fc.integer({ min: 0, max: 2 ** (32 - bits) - 1 }).map((offset) => {
        const base =
          prefix.reduce((acc, o) => acc * 256 + o, 0) *
          2 ** (8 * (4 - prefix.length));
        const n = base + offset;
        return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
      });
    fc.assert(
      fc.property(
        fc.oneof(
          inBlock([10], 8),
          inBlock([172, 16], 12),
          inBlock([192, 168], 16),
          inBlock([127], 8),
          inBlock([100, 64], 10),
        ),
        (ip) => {
          expect(isPublicAddress(ip)).toBe(false);
        },
      ),
    );
  });
});

const long = `https://example.com/${"a".repeat(2048)}`;

const urlTable: Array<[url: string, allowPrivate: boolean, ok: boolean]> = [
  ["https://hooks.example.com/poisonwatch", false, true],
  ["https://hooks.example.com:8443/p?q=1#f", false, true],
  ["https://8.8.8.8/hook", false, true],
  ["https://[2606:4700:4700::1111]/hook", false, true],
  ["http://hooks.example.com/poisonwatch", false, false],
  ["http://hooks.example.com/poisonwatch", true, true],
  ["ftp://hooks.example.com/", false, false],
  ["ftp://hooks.example.com/", true, false],
  ["file:///etc/passwd", true, false],
  ["javascript:alert(1)", true, false],
  ["not a url", false, false],
  ["/relative/path", false, false],
  ["", false, false],
  ["https://user:pass@hooks.example.com/", false, false],
  ["https://user@hooks.example.com/", true, false],
  ["https://127.0.0.1/", false, false],
  ["https://127.0.0.1./", false, false],
  ["https://2130706433/", false, false],
  ["https://0x7f.1/", false, false],
  ["https://[::1]/", false, false],
  ["https://[::ffff:127.0.0.1]/", false, false],
  ["https://[::ffff:a9fe:a9fe]/", false, false],
  ["https://169.254.169.254/latest/meta-data", false, false],
  ["https://10.0.0.1/", false, false],
  ["https://192.168.0.10:8443/", false, false],
  ["https://[fe80::1]/", false, false],
  ["https://[fd00::1]/", false, false],
  ["https://0.0.0.0/", false, false],
  ["https://localhost/", false, false],
  ["https://LOCALHOST./", false, false],
  ["https://api.localhost/", false, false],
  ["https://localhost.example.com/", false, true],
  ["http://localhost:3000/hook", true, true],
  ["http://127.0.0.1:8080/hook", true, true],
  ["http://[::1]:8080/hook", true, true],
  [long, false, false],
  [
    `https://example.com/${"a".repeat(2048 - "https://example.com/".length)}`,
    false,
    true,
  ],
];

describe("validateWebhookUrl", () => {
  it.each(urlTable)("%s (allowPrivate=%s) → ok=%s", (url, allowPrivate, ok) => {
    const result = validateWebhookUrl(url, { allowPrivate });
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.message).toMatch(/^URL /);
  });

  it("explains why a URL is refused", () => {
    expect(
      validateWebhookUrl("http://x.example/", { allowPrivate: false }),
    ).toEqual({
      ok: false,
      message: "URL must use https",
    });
    expect(
      validateWebhookUrl("https://10.1.1.1/", { allowPrivate: false }),
    ).toEqual({
      ok: false,
      message:
        "URL must not target a loopback, private, link-local or reserved address",
    });
  });
});
