export const AUDIT_INPUT = { limit: 50 };
