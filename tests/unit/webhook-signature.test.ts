import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  generateWebhookSecret,
  signPayload,
} from "@/server/notify/webhook-signature";

const body = JSON.stringify({
  type: "webhook.test",
  timestamp: "2025-01-01T00:00:00.000Z",
  data: { ok: "é✓" },
});

describe("generateWebhookSecret", () => {
  it("is whsec_ + base64 of 32 random bytes", () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });
});

describe("signPayload", () => {
  it("produces headers the standardwebhooks library verifies", () => {
    const secret = generateWebhookSecret();
    const headers = signPayload({
      msgId: "msg_01J0",
      timestamp: new Date(),
      body,
      secrets: [secret],
    });
    expect(headers["webhook-id"]).toBe("msg_01J0");
    expect(headers["webhook-timestamp"]).toMatch(/^\d+$/);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("signs with every secret during a rotation, and each one alone verifies", () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const headers = signPayload({
      msgId: "msg_rot",
      timestamp: new Date(),
      body,
      secrets: [oldSecret, newSecret],
    });
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, headers)).not.toThrow();
    expect(() =>
      new Webhook(generateWebhookSecret()).verify(body, headers),
    ).toThrow();
  });

  it("uses integer seconds and rejects a tampered body", () => {
    const secret = generateWebhookSecret();
    const at = new Date(Date.now() - 1500);
    const headers = signPayload({
      msgId: "msg_ts",
      timestamp: at,
      body,
      secrets: [secret],
    });
    expect(headers["webhook-timestamp"]).toBe(
      String(Math.floor(at.getTime() / 1000)),
    );
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
  });

  it("matches a fixed vector", () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    const at = new Date("2025-03-04T05:06:07.890Z");
    const headers = signPayload({
      msgId: "msg_x",
      timestamp: at,
      body: "{}",
      secrets: [secret],
    });
    expect(headers["webhook-signature"]).toBe(
      new Webhook(secret).sign("msg_x", at, "{}"),
    );
  });

  it("refuses to sign without a usable secret", () => {
    expect(() =>
      signPayload({ msgId: "m", timestamp: new Date(), body, secrets: [] }),
    ).toThrow();
    expect(() =>
      signPayload({
        msgId: "m",
        timestamp: new Date(),
        body,
        secrets: ["nope"],
      }),
    ).toThrow();
    expect(() =>
      signPayload({
        msgId: "m",
        timestamp: new Date(),
        body,
        secrets: ["whsec_"],
      }),
    ).toThrow();
  });
});
