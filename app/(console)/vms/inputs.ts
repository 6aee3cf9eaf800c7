export const VM_LIST_INPUT = { limit: 100 };
export const VM_HEALTH_DAYS = 30;
