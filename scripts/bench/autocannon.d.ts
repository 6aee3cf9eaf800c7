declare module "autocannon" {
  type Req = {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  };
  type Options = {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    requests?: {
      method?: string;
      path?: string;
      setupRequest?: (req: Req) => Req;
    }[];
  };
  type Histogram = { p50: number; p99: number; average: number; max: number };
  type Result = {
    requests: Histogram & { total: number; average: number };
    latency: Histogram;
    non2xx: number;
    errors: number;
    duration: number;
    "2xx": number;
  };
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
