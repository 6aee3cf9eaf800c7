export const OUTBOX_INPUT = { limit: 50 };
