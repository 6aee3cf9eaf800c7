// Types of db/thread-tasks.mjs (plain JavaScript: the database thread loads it from disk).
export declare const THREAD_TASKS_ENTRY: string;
export declare function threadTasksFile(root: string): string;
export declare function buildThreadTasks(root: string): Promise<string>;
export declare function ensureThreadTasks(root: string): Promise<string | null>;
export declare function importThreadTasks(
  root: string,
): Promise<Record<string, unknown> | null>;
