export declare const OFFLINE_ENV: Record<string, string>;
export declare const WRANGLER_BIN: string;
