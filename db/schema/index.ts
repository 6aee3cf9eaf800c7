export * from "./auth";
export * from "./events";
export * from "./feeds";
export * from "./incidents";
export * from "./inventory";
export * from "./notifications";
export * from "./tenants";
